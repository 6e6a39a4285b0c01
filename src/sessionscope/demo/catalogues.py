"""Static reference data for the demo session generator.

Everything here is plain, immutable data (tuples of tuples).  The generator
in :mod:`sessionscope.demo.generate` turns these into fast lookup tables once
at import time.  Weights are relative integers; they need not sum to 100.
"""

from __future__ import annotations

# Data tables are laid out by hand for readability.
# fmt: off
# ---------------------------------------------------------------------------
# People
# ---------------------------------------------------------------------------

#: name pools keyed by a "name culture" code: (first names, last names)
NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "en": (
        (
            "James", "Olivia", "Liam", "Emma", "Noah", "Ava", "William", "Sophia", "Isaias", "Mia",
            "Benjamin", "Charlotte", "Lucas", "Amelia", "Henry", "Harper", "Ethan", "Evelyn", "Mason",
            "Abigail", "Logan", "Emily", "Jack", "Ella", "Owen", "Grace", "Wyatt", "Chloe", "Caleb",
            "Zoey", "Ryan", "Nora", "Dylan", "Hannah", "Aiden", "Lily", "Jacob", "Madison", "Tyler",
        ),
        (
            "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
            "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris",
            "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
            "Green", "Baker", "Adams", "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Carter",
            "Phillips", "Evans", "Turner", "Parker", "Collins", "Edwards", "Stewart", "Altenwerth",
            "Murphy", "Cook", "Rogers", "Morgan", "Cooper", "Peterson", "Reed", "Bailey", "Kelly",
        ),
    ),
    "de": (
        (
            "Lukas", "Leon", "Finn", "Paul", "Jonas", "Mia", "Emma", "Hannah", "Lena", "Sophie",
            "Marie", "Felix", "Maximilian", "Anna", "Laura", "Tim", "Julia", "Niklas", "Jan", "Lea",
            "Tobias", "Katharina", "Moritz", "Johanna", "Sebastian", "Clara",
        ),
        (
            "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
            "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Neumann", "Schröder",
            "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Werner", "Krause",
        ),
    ),
    "fr": (
        (
            "Lucas", "Hugo", "Louis", "Gabriel", "Jules", "Léa", "Chloé", "Manon", "Camille", "Inès",
            "Emma", "Sarah", "Théo", "Nathan", "Jade", "Arthur", "Louise", "Raphaël", "Zoé", "Mathis",
            "Juliette", "Antoine", "Margaux", "Clément",
        ),
        (
            "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
            "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand",
            "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier",
        ),
    ),
    "es": (
        (
            "Alejandro", "Daniel", "Pablo", "Hugo", "Javier", "Lucía", "María", "Paula", "Sofía",
            "Valentina", "Camila", "Carlos", "Diego", "Andrea", "Sergio", "Fernanda", "José",
            "Ximena", "Mateo", "Martina", "Santiago", "Regina", "Adrián", "Carmen",
        ),
        (
            "García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez", "Pérez",
            "Gómez", "Martín", "Hernández", "Ramírez", "Torres", "Flores", "Díaz", "Morales",
            "Jiménez", "Ruiz", "Álvarez", "Romero", "Navarro", "Castillo", "Ortiz", "Vargas",
        ),
    ),
    "pt": (
        (
            "Miguel", "Arthur", "Heitor", "Davi", "Gabriel", "Bernardo", "Helena", "Alice", "Laura",
            "Manuela", "Valentina", "Júlia", "Lucas", "Mateus", "Beatriz", "Rafael", "Larissa",
            "Thiago", "Fernanda", "Gustavo", "Camila", "Pedro",
        ),
        (
            "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira",
            "Lima", "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Araújo",
            "Barbosa", "Rocha", "Dias", "Nascimento", "Moreira", "Cardoso",
        ),
    ),
    "it": (
        (
            "Leonardo", "Francesco", "Alessandro", "Lorenzo", "Mattia", "Andrea", "Sofia", "Giulia",
            "Aurora", "Alice", "Ginevra", "Chiara", "Marco", "Luca", "Giorgia", "Matteo", "Elena",
            "Davide", "Martina", "Federico",
        ),
        (
            "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
            "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Costa", "Giordano", "Mancini",
            "Rizzo", "Lombardi", "Moretti",
        ),
    ),
    "nl": (
        (
            "Daan", "Sem", "Lucas", "Levi", "Finn", "Milan", "Emma", "Julia", "Tess", "Sophie", "Zoë",
            "Anna", "Noor", "Lotte", "Bram", "Thijs", "Fleur", "Jesse", "Sanne", "Ruben",
        ),
        (
            "de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen",
            "Visser", "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters",
            "Hendriks", "van Leeuwen", "Dekker", "Brouwer",
        ),
    ),
    "hi": (
        (
            "Aarav", "Vivaan", "Aditya", "Arjun", "Sai", "Reyansh", "Ishaan", "Ananya", "Diya",
            "Saanvi", "Aadhya", "Priya", "Kavya", "Rohan", "Rahul", "Neha", "Pooja", "Vikram",
            "Sneha", "Karan", "Divya", "Amit", "Meera", "Siddharth",
        ),
        (
            "Sharma", "Verma", "Gupta", "Patel", "Singh", "Kumar", "Reddy", "Iyer", "Nair", "Mehta",
            "Joshi", "Shah", "Das", "Rao", "Chopra", "Malhotra", "Banerjee", "Mishra", "Pillai",
            "Agarwal", "Kapoor", "Desai",
        ),
    ),
    "ja": (
        (
            "Haruto", "Sota", "Yuto", "Hinata", "Riku", "Yui", "Himari", "Mei", "Sakura", "Aoi",
            "Yuna", "Ren", "Daiki", "Kenta", "Hana", "Saki", "Takumi", "Misaki", "Shota", "Nanami",
        ),
        (
            "Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura",
            "Kobayashi", "Kato", "Yoshida", "Yamada", "Sasaki", "Matsumoto", "Inoue", "Kimura",
            "Hayashi", "Shimizu",
        ),
    ),
    "ko": (
        (
            "Min-jun", "Seo-yeon", "Ji-ho", "Ha-eun", "Do-yun", "Ji-woo", "Seo-jun", "Soo-ah",
            "Ye-jin", "Hyun-woo", "Ji-min", "Eun-ji", "Tae-yang", "Yu-na", "Jae-won", "Da-eun",
        ),
        (
            "Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon", "Jang", "Lim", "Han", "Oh",
            "Seo", "Shin", "Kwon", "Hwang",
        ),
    ),
    "ne": (
        (
            "Aarav", "Bibek", "Sagar", "Sujan", "Prabin", "Anish", "Rojina", "Sita", "Puja", "Sabina",
            "Srijana", "Kiran", "Nabin", "Suman", "Anjali", "Pratiksha", "Roshan", "Asmita",
            "Bikash", "Manisha",
        ),
        (
            "Shrestha", "Gurung", "Tamang", "Thapa", "Magar", "Rai", "Limbu", "Adhikari", "Sharma",
            "Karki", "Bhandari", "Poudel", "Khadka", "Maharjan", "Basnet", "Pandey", "Acharya",
            "Bista",
        ),
    ),
}

# ---------------------------------------------------------------------------
# Geography
# ---------------------------------------------------------------------------
# Each country:
#   (countryCode, country name as reported by the SDK, user weight, name culture,
#    languages ((language, weight), ...),
#    cities ((city, latitude, longitude, utc offset in hours, weight), ...),
#    carriers ((carrierName, carrierCode = MCC+MNC, weight), ...))

COUNTRIES: tuple = (
    (
        "US", "USA", 28, "en",
        (("English", 90), ("Spanish", 10)),
        (
            ("New York", 40.7128, -74.0060, -5, 30),
            ("Los Angeles", 34.0522, -118.2437, -8, 22),
            ("Chicago", 41.8781, -87.6298, -6, 16),
            ("Houston", 29.7604, -95.3698, -6, 14),
            ("Albany", 42.6526, -73.7562, -5, 6),
        ),
        (("Verizon Wireless", "311480", 38), ("AT&T", "310410", 33), ("T-Mobile", "310260", 29)),
    ),
    (
        "IN", "India", 12, "hi",
        (("English", 55), ("Hindi", 45)),
        (
            ("Mumbai", 19.0760, 72.8777, 5.5, 28),
            ("Delhi", 28.7041, 77.1025, 5.5, 28),
            ("Bengaluru", 12.9716, 77.5946, 5.5, 22),
            ("Hyderabad", 17.3850, 78.4867, 5.5, 12),
            ("Chennai", 13.0827, 80.2707, 5.5, 10),
        ),
        (("Jio", "405857", 45), ("Airtel", "40410", 35), ("Vi India", "40420", 15), ("BSNL Mobile", "40434", 5)),
    ),
    (
        "GB", "United Kingdom", 9, "en",
        (("English", 100),),
        (
            ("London", 51.5074, -0.1278, 0, 45),
            ("Manchester", 53.4808, -2.2426, 0, 18),
            ("Birmingham", 52.4862, -1.8904, 0, 16),
            ("Edinburgh", 55.9533, -3.1883, 0, 11),
            ("Bristol", 51.4545, -2.5879, 0, 10),
        ),
        (("EE", "23430", 35), ("Vodafone UK", "23415", 25), ("O2 - UK", "23410", 25), ("Three", "23420", 15)),
    ),
    (
        "DE", "Germany", 7, "de",
        (("German", 92), ("English", 8)),
        (
            ("Berlin", 52.5200, 13.4050, 1, 32),
            ("Munich", 48.1351, 11.5820, 1, 22),
            ("Hamburg", 53.5511, 9.9937, 1, 20),
            ("Cologne", 50.9375, 6.9603, 1, 14),
            ("Frankfurt", 50.1109, 8.6821, 1, 12),
        ),
        (("Telekom.de", "26201", 45), ("Vodafone.de", "26202", 32), ("o2 - de", "26203", 23)),
    ),
    (
        "BR", "Brazil", 7, "pt",
        (("Portuguese", 100),),
        (
            ("São Paulo", -23.5505, -46.6333, -3, 40),
            ("Rio de Janeiro", -22.9068, -43.1729, -3, 28),
            ("Belo Horizonte", -19.9167, -43.9345, -3, 14),
            ("Brasília", -15.7975, -47.8919, -3, 10),
            ("Porto Alegre", -30.0346, -51.2177, -3, 8),
        ),
        (("Vivo", "72406", 38), ("Claro BR", "72405", 33), ("TIM BR", "72402", 29)),
    ),
    (
        "FR", "France", 5, "fr",
        (("French", 100),),
        (
            ("Paris", 48.8566, 2.3522, 1, 50),
            ("Lyon", 45.7640, 4.8357, 1, 20),
            ("Marseille", 43.2965, 5.3698, 1, 18),
            ("Toulouse", 43.6047, 1.4442, 1, 12),
        ),
        (("Orange F", "20801", 38), ("SFR", "20810", 25), ("Bouygues Telecom", "20820", 20), ("Free", "20815", 17)),
    ),
    (
        "CA", "Canada", 5, "en",
        (("English", 78), ("French", 22)),
        (
            ("Toronto", 43.6532, -79.3832, -5, 40),
            ("Montreal", 45.5017, -73.5673, -5, 25),
            ("Vancouver", 49.2827, -123.1207, -8, 22),
            ("Calgary", 51.0447, -114.0719, -7, 13),
        ),
        (("Rogers", "302720", 36), ("Bell", "302610", 33), ("TELUS", "302220", 31)),
    ),
    (
        "MX", "Mexico", 4, "es",
        (("Spanish", 100),),
        (
            ("Mexico City", 19.4326, -99.1332, -6, 55),
            ("Guadalajara", 20.6597, -103.3496, -6, 25),
            ("Monterrey", 25.6866, -100.3161, -6, 20),
        ),
        (("Telcel", "334020", 62), ("AT&T MX", "334050", 20), ("Movistar MX", "334030", 18)),
    ),
    (
        "ES", "Spain", 4, "es",
        (("Spanish", 90), ("Catalan", 10)),
        (
            ("Madrid", 40.4168, -3.7038, 1, 42),
            ("Barcelona", 41.3874, 2.1686, 1, 33),
            ("Valencia", 39.4699, -0.3763, 1, 14),
            ("Seville", 37.3891, -5.9845, 1, 11),
        ),
        (("Movistar", "21407", 40), ("Vodafone ES", "21401", 30), ("Orange", "21403", 30)),
    ),
    (
        "AU", "Australia", 4, "en",
        (("English", 100),),
        (
            ("Sydney", -33.8688, 151.2093, 10, 38),
            ("Melbourne", -37.8136, 144.9631, 10, 34),
            ("Brisbane", -27.4698, 153.0251, 10, 16),
            ("Perth", -31.9505, 115.8605, 8, 12),
        ),
        (("Telstra", "50501", 45), ("Optus", "50502", 32), ("Vodafone AU", "50503", 23)),
    ),
    (
        "IT", "Italy", 3, "it",
        (("Italian", 100),),
        (
            ("Rome", 41.9028, 12.4964, 1, 35),
            ("Milan", 45.4642, 9.1900, 1, 35),
            ("Naples", 40.8518, 14.2681, 1, 16),
            ("Turin", 45.0703, 7.6869, 1, 14),
        ),
        (("TIM", "22201", 32), ("Vodafone IT", "22210", 28), ("WINDTRE", "22288", 25), ("Iliad", "22250", 15)),
    ),
    (
        "NP", "Nepal", 3, "ne",
        (("Nepali", 65), ("English", 35)),
        (
            ("Kathmandu", 27.7172, 85.3240, 5.75, 50),
            ("Lalitpur", 27.6588, 85.3247, 5.75, 20),
            ("Pokhara", 28.2096, 83.9856, 5.75, 18),
            ("Biratnagar", 26.4525, 87.2718, 5.75, 12),
        ),
        (("Nepal Telecom", "42901", 55), ("Ncell", "42902", 45)),
    ),
    (
        "JP", "Japan", 3, "ja",
        (("Japanese", 100),),
        (
            ("Tokyo", 35.6762, 139.6503, 9, 50),
            ("Osaka", 34.6937, 135.5023, 9, 22),
            ("Yokohama", 35.4437, 139.6380, 9, 16),
            ("Fukuoka", 33.5904, 130.4017, 9, 12),
        ),
        (("NTT DOCOMO", "44010", 38), ("KDDI", "44050", 30), ("SoftBank", "44020", 25), ("Rakuten", "44011", 7)),
    ),
    (
        "NL", "Netherlands", 2, "nl",
        (("Dutch", 90), ("English", 10)),
        (
            ("Amsterdam", 52.3676, 4.9041, 1, 50),
            ("Rotterdam", 51.9244, 4.4777, 1, 28),
            ("Utrecht", 52.0907, 5.1214, 1, 22),
        ),
        (("KPN", "20408", 40), ("Vodafone NL", "20404", 32), ("Odido", "20416", 28)),
    ),
    (
        "KR", "South Korea", 2, "ko",
        (("Korean", 100),),
        (
            ("Seoul", 37.5665, 126.9780, 9, 60),
            ("Busan", 35.1796, 129.0756, 9, 25),
            ("Incheon", 37.4563, 126.7052, 9, 15),
        ),
        (("SKTelecom", "45005", 45), ("KT", "45008", 32), ("LG U+", "45006", 23)),
    ),
)

# ---------------------------------------------------------------------------
# Devices
# ---------------------------------------------------------------------------
# Android: (producer, model, width, height, dpi, class, type,
#           ram options in GB, storage options in GB, os versions ((version, weight), ...), weight)

_A_NEW = (("12", 10), ("13", 45), ("14", 45))
_A_MID = (("11", 10), ("12", 25), ("13", 45), ("14", 20))
_A_OLD = (("10", 15), ("11", 35), ("12", 30), ("13", 20))
_A_13UP = (("13", 40), ("14", 60))

ANDROID_MODELS: tuple = (
    ("Samsung", "SM-S911B", 1080, 2340, 420, "Android Medium", "Phone", (8,), (128, 256), _A_13UP, 8),
    ("Samsung", "SM-S918B", 1440, 3088, 500, "Android Large", "Phone", (8, 12), (256, 512), _A_13UP, 5),
    ("Samsung", "SM-G991B", 1080, 2400, 420, "Android Medium", "Phone", (8,), (128, 256), _A_MID, 6),
    ("Samsung", "SM-G998B", 1440, 3200, 515, "Android Large", "Phone", (12, 16), (128, 256), _A_MID, 3),
    ("Samsung", "SM-A546B", 1080, 2340, 400, "Android Large", "Phone", (6, 8), (128, 256), _A_13UP, 8),
    ("Samsung", "SM-A525F", 1080, 2400, 405, "Android Large", "Phone", (4, 6, 8), (128, 256), _A_MID, 6),
    ("Samsung", "SM-A135F", 1080, 2408, 400, "Android Large", "Phone", (3, 4), (32, 64, 128), _A_MID, 7),
    ("Samsung", "SM-A146B", 1080, 2408, 400, "Android Large", "Phone", (4, 6), (64, 128), _A_13UP, 6),
    ("Samsung", "SM-F946B", 1812, 2176, 373, "Android Large", "Phone", (12,), (256, 512), _A_13UP, 1),
    ("Samsung", "SM-X710", 1600, 2560, 274, "Android Tablet", "Tablet", (8,), (128, 256), _A_13UP, 2),
    ("Google", "Pixel 8", 1080, 2400, 420, "Android Medium", "Phone", (8,), (128, 256), (("14", 100),), 4),
    ("Google", "Pixel 7", 1080, 2400, 420, "Android Medium", "Phone", (8,), (128, 256), _A_13UP, 4),
    ("Google", "Pixel 7a", 1080, 2400, 420, "Android Medium", "Phone", (8,), (128,), _A_13UP, 3),
    ("Google", "Pixel 6 Pro", 1440, 3120, 560, "Android Large", "Phone", (12,), (128, 256), _A_NEW, 2),
    ("Xiaomi", "2201117TG", 1080, 2400, 440, "Android Large", "Phone", (4, 6), (64, 128), _A_MID, 6),
    ("Xiaomi", "23021RAAEG", 1080, 2400, 440, "Android Large", "Phone", (4, 6, 8), (128, 256), _A_13UP, 5),
    ("Xiaomi", "M2101K6G", 1080, 2400, 440, "Android Large", "Phone", (6, 8), (64, 128), _A_OLD, 4),
    ("Xiaomi", "2211133G", 1080, 2400, 440, "Android Medium", "Phone", (8, 12), (256,), _A_13UP, 2),
    ("OnePlus", "CPH2449", 1440, 3216, 560, "Android Large", "Phone", (8, 16), (128, 256), _A_13UP, 3),
    ("OnePlus", "LE2113", 1080, 2400, 420, "Android Large", "Phone", (8, 12), (128, 256), _A_MID, 2),
    ("OnePlus", "CPH2381", 1080, 2412, 400, "Android Large", "Phone", (6, 8), (128,), _A_NEW, 2),
    ("Motorola", "moto g(60)", 1080, 2460, 400, "Android Large", "Phone", (4, 6), (64, 128), _A_OLD, 3),
    ("Motorola", "moto g54 5G", 1080, 2400, 400, "Android Large", "Phone", (4, 8), (128, 256), _A_13UP, 3),
    ("Motorola", "motorola edge 30", 1080, 2400, 400, "Android Large", "Phone", (6, 8), (128, 256), _A_NEW, 2),
    ("Huawei", "ELS-NX9", 1200, 2640, 480, "Android Large", "Phone", (8,), (256,), (("10", 100),), 2),
    ("Huawei", "VOG-L29", 1080, 2340, 480, "Android Large", "Phone", (6, 8), (128, 256), (("10", 100),), 2),
    ("Sony", "XQ-DQ54", 1644, 3840, 640, "Android Medium", "Phone", (12,), (256,), _A_13UP, 1),
    ("Sony", "XQ-CC54", 1080, 2520, 440, "Android Medium", "Phone", (6,), (128,), _A_NEW, 1),
    ("Lenovo", "TB-X606F", 1200, 1920, 240, "Android Tablet", "Tablet", (2, 4), (32, 64), _A_OLD, 1),
)

# iOS: model identifiers in the "iPhone14,2" style.
# (model, width, height, dpi, class, type, ram options, storage options, os versions, weight)
_I_15UP = (("15.7.9", 6), ("16.6.1", 12), ("16.7.2", 14), ("17.0.3", 10), ("17.1.1", 28), ("17.1.2", 30))
_I_16UP = (("16.6.1", 10), ("16.7.2", 14), ("17.0.3", 12), ("17.1.1", 30), ("17.1.2", 34))
_I_17UP = (("17.0.3", 15), ("17.1.1", 40), ("17.1.2", 45))
_I_IPAD = (("16.7.2", 25), ("17.0.3", 15), ("17.1.1", 30), ("17.1.2", 30))

IOS_MODELS: tuple = (
    ("iPhone12,1", 828, 1792, 326, "iPhone Medium", "Phone", (4,), (64, 128), _I_15UP, 6),
    ("iPhone12,3", 1125, 2436, 458, "iPhone Medium", "Phone", (4,), (64, 256), _I_15UP, 2),
    ("iPhone12,5", 1242, 2688, 458, "iPhone Large", "Phone", (4,), (64, 256), _I_15UP, 2),
    ("iPhone12,8", 750, 1334, 326, "iPhone Small", "Phone", (3,), (64, 128), _I_15UP, 3),
    ("iPhone13,1", 1080, 2340, 476, "iPhone Small", "Phone", (4,), (64, 128), _I_15UP, 2),
    ("iPhone13,2", 1170, 2532, 460, "iPhone Medium", "Phone", (4,), (64, 128, 256), _I_15UP, 6),
    ("iPhone13,3", 1170, 2532, 460, "iPhone Medium", "Phone", (6,), (128, 256), _I_15UP, 3),
    ("iPhone13,4", 1284, 2778, 458, "iPhone Large", "Phone", (6,), (128, 256), _I_15UP, 3),
    ("iPhone14,4", 1080, 2340, 476, "iPhone Small", "Phone", (4,), (128,), _I_15UP, 2),
    ("iPhone14,5", 1170, 2532, 460, "iPhone Medium", "Phone", (4,), (128, 256), _I_15UP, 8),
    ("iPhone14,2", 1170, 2532, 460, "iPhone Medium", "Phone", (6,), (128, 256, 512), _I_15UP, 4),
    ("iPhone14,3", 1284, 2778, 458, "iPhone Large", "Phone", (6,), (128, 256, 512), _I_15UP, 4),
    ("iPhone14,6", 750, 1334, 326, "iPhone Small", "Phone", (4,), (64, 128), _I_15UP, 2),
    ("iPhone14,7", 1170, 2532, 460, "iPhone Medium", "Phone", (6,), (128, 256), _I_16UP, 7),
    ("iPhone14,8", 1284, 2778, 458, "iPhone Large", "Phone", (6,), (128, 256), _I_16UP, 2),
    ("iPhone15,2", 1179, 2556, 460, "iPhone Medium", "Phone", (6,), (128, 256, 512), _I_16UP, 5),
    ("iPhone15,3", 1290, 2796, 460, "iPhone Large", "Phone", (6,), (256, 512), _I_16UP, 5),
    ("iPhone15,4", 1179, 2556, 460, "iPhone Medium", "Phone", (6,), (128, 256), _I_17UP, 5),
    ("iPhone15,5", 1290, 2796, 460, "iPhone Large", "Phone", (6,), (128, 256), _I_17UP, 2),
    ("iPhone16,1", 1179, 2556, 460, "iPhone Medium", "Phone", (8,), (128, 256, 512), _I_17UP, 4),
    ("iPhone16,2", 1290, 2796, 460, "iPhone Large", "Phone", (8,), (256, 512, 1024), _I_17UP, 4),
    ("iPad12,1", 1620, 2160, 264, "iPad", "Tablet", (3,), (64, 256), _I_IPAD, 2),
    ("iPad13,18", 1640, 2360, 264, "iPad", "Tablet", (4,), (64, 256), _I_IPAD, 2),
    ("iPad13,16", 1640, 2360, 264, "iPad", "Tablet", (8,), (64, 256), _I_IPAD, 1),
    ("iPad14,3", 1668, 2388, 264, "iPad", "Tablet", (8,), (128, 256, 512), _I_IPAD, 1),
)

# Web: (osName, osVersions, deviceType, producer, model, class, browsers, resolutions, weight)
#   browsers: ((browserName, (versions...), weight), ...)
#   resolutions: ((width, height, dpi, weight), ...)
_CHROME = ("119.0", "120.0", "118.0")
_EDGE = ("119.0", "120.0", "118.0")
_FIREFOX = ("120.0", "119.0", "121.0")
_SAFARI = ("17.1", "17.0", "16.6", "17.2")

WEB_PLATFORMS: tuple = (
    (
        "Windows", ("10", "11"), "Desktop", "Microsoft", "Windows PC", "Web Desktop",
        (("Chrome", _CHROME, 65), ("Edge", _EDGE, 25), ("Firefox", _FIREFOX, 10)),
        ((1920, 1080, 96, 45), (1366, 768, 96, 15), (1536, 864, 120, 20), (2560, 1440, 96, 12), (1280, 720, 96, 8)),
        44,
    ),
    (
        "macOS", ("10.15.7",), "Desktop", "Apple", "Macintosh", "Web Desktop",
        (("Chrome", _CHROME, 50), ("Safari", _SAFARI, 40), ("Firefox", _FIREFOX, 10)),
        ((1440, 900, 144, 30), (1512, 982, 144, 30), (1728, 1117, 144, 15), (2560, 1440, 144, 25)),
        24,
    ),
    (
        "Linux", ("x86_64",), "Desktop", "Generic", "Linux PC", "Web Desktop",
        (("Chrome", _CHROME, 55), ("Firefox", _FIREFOX, 45)),
        ((1920, 1080, 96, 70), (2560, 1440, 96, 30)),
        3,
    ),
    (
        "iOS", ("17.1", "17.1.1", "16.6"), "Phone", "Apple", "iPhone", "Web Phone",
        (("Safari", _SAFARI, 80), ("Chrome", _CHROME, 20)),
        ((390, 844, 460, 40), (393, 852, 460, 30), (414, 896, 326, 15), (375, 667, 326, 15)),
        12,
    ),
    (
        "Android", ("13", "14", "10"), "Phone", "Samsung", "SM-S911B", "Web Phone",
        (("Chrome", _CHROME, 75), ("Samsung Internet", ("23.0", "22.0"), 25)),
        ((412, 915, 420, 50), (360, 800, 400, 30), (384, 854, 440, 20)),
        9,
    ),
    (
        "iOS", ("17.1", "16.7"), "Tablet", "Apple", "iPad", "Web Tablet",
        (("Safari", _SAFARI, 90), ("Chrome", _CHROME, 10)),
        ((820, 1180, 264, 60), (1024, 1366, 264, 40)),
        5,
    ),
    (
        "Android", ("13", "14"), "Tablet", "Samsung", "SM-X710", "Web Tablet",
        (("Chrome", _CHROME, 100),),
        ((800, 1280, 240, 100),),
        3,
    ),
)

# ---------------------------------------------------------------------------
# App / SDK versions
# ---------------------------------------------------------------------------

#: (appVersion, weight) -- weighted toward newer releases; index order is oldest..newest
APP_VERSIONS: tuple = (("1.3", 5), ("1.4", 9), ("1.5", 18), ("2.0", 30), ("2.1", 38))

#: sdkVersion by platform, aligned index-for-index with APP_VERSIONS
SDK_VERSIONS: dict[str, tuple[str, ...]] = {
    "android": ("3.4.1", "3.5.0", "3.5.2", "3.6.0", "3.6.2"),
    "ios": ("3.4.3", "3.5.1", "3.5.6", "3.6.1", "3.6.3"),
    "web": ("1.0.4", "1.1.0", "1.1.2", "1.2.0", "1.2.1"),
}

# ---------------------------------------------------------------------------
# User custom properties
# ---------------------------------------------------------------------------
# (key, ((value, weight), ...), probability the key is missing)
GENDERS = (("male", 48), ("female", 48), ("non-binary", 2), ("undisclosed", 2))
AGE_GROUPS = (("10-19", 8), ("20-29", 30), ("30-39", 28), ("40-49", 17), ("50-59", 11), ("60-69", 6))
ACQN_SOURCES = (
    ("none", 22), ("organic", 25), ("google_ads", 16), ("facebook", 10), ("instagram", 8),
    ("tiktok", 6), ("referral", 7), ("email", 4), ("app_store_search", 2),
)
EXP_VARIANTS = (("control", 34), ("test_1", 33), ("test_2", 33))
PLANS = (("free", 74), ("pro", 21), ("enterprise", 5))

#: probability that a user lacks a given custom property
MISSING_PROB = {
    "gender": 0.08,
    "age_group": 0.10,
    "language": 0.05,
    "loyalty_card": 0.15,
    "acqn_source": 0.12,
    "exp_var_key": 0.05,
    "plan": 0.03,
    "lifetime_value": 0.10,
    "is_beta": 0.20,
    "orders": 0.10,
}

# ---------------------------------------------------------------------------
# Commerce catalogue
# ---------------------------------------------------------------------------
# (category slug, (price range low, high), search queries, weight)
CATEGORIES: tuple = (
    ("shoes", (29, 189), ("running shoes", "sneakers", "boots", "sandals", "nike air max", "trail shoes"), 16),
    ("apparel", (9, 129), ("t-shirt", "hoodie", "jeans", "summer dress", "rain jacket", "linen shirt"), 18),
    ("electronics", (15, 1299), ("headphones", "usb-c charger", "smart watch", "bluetooth speaker", "laptop stand", "phone case"), 14),
    ("home", (8, 399), ("coffee maker", "bed sheets", "desk lamp", "air fryer", "cushion", "storage box"), 12),
    ("beauty", (5, 89), ("moisturizer", "sunscreen", "lipstick", "shampoo", "perfume", "face serum"), 10),
    ("sports", (12, 499), ("yoga mat", "dumbbells", "bike helmet", "football", "water bottle", "tennis racket"), 9),
    ("books", (6, 49), ("cookbook", "fantasy novel", "kids books", "self help", "biography", "travel guide"), 6),
    ("toys", (7, 149), ("lego", "puzzle", "board game", "plush toy", "rc car", "dollhouse"), 6),
    ("accessories", (9, 249), ("backpack", "sunglasses", "wallet", "watch strap", "belt", "scarf"), 9),
)

#: number of distinct products in the demo shop
PRODUCT_COUNT = 240

PAYMENT_METHODS_ANDROID = (("Card", 55), ("Paypal", 28), ("Cash", 17))
PAYMENT_METHODS_IOS = (("Apple Pay", 42), ("Card", 36), ("Paypal", 15), ("Cash", 7))
PAYMENT_METHODS_WEB = (("Card", 58), ("Paypal", 32), ("Apple Pay", 10))

LOGIN_METHODS_ANDROID = (("email", 55), ("google", 40), ("facebook", 5))
LOGIN_METHODS_IOS = (("email", 40), ("apple", 45), ("google", 12), ("facebook", 3))
LOGIN_METHODS_WEB = (("email", 60), ("google", 35), ("facebook", 5))

SHARE_CHANNELS = (("whatsapp", 35), ("messages", 20), ("instagram", 15), ("copy_link", 20), ("email", 10))

# ---------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------
NETWORK_TYPES_PHONE = (("wifi", 56), ("4g", 22), ("5g", 12), ("cellular", 10))
NETWORK_TYPES_WIFI_ONLY = (("wifi", 100),)
NETWORK_TYPES_DESKTOP = (("wifi", 90), ("cellular", 10))

# ---------------------------------------------------------------------------
# Web traffic sources
# ---------------------------------------------------------------------------
#: (referer template or None, utm (source, medium) or None, weight).  "{q}" is replaced by a search query.
WEB_SOURCES: tuple = (
    (None, None, 34),
    ("https://www.google.com/search?q={q}", None, 24),
    ("https://www.google.com/search?q={q}", ("google", "cpc"), 12),
    ("https://www.bing.com/search?q={q}", None, 4),
    ("https://www.facebook.com/", ("facebook", "social"), 8),
    ("https://www.instagram.com/", ("instagram", "social"), 6),
    ("https://t.co/", ("twitter", "social"), 2),
    (None, ("newsletter", "email"), 7),
    ("https://www.reddit.com/", None, 3),
)
UTM_CAMPAIGNS = (("winter_sale", 30), ("black_friday", 25), ("spring_launch", 15), ("retargeting_q4", 20), ("brand", 10))

# ---------------------------------------------------------------------------
# Screens
# ---------------------------------------------------------------------------
# Abstract screen states used by the Markov walk.  Names per platform below.
SPLASH, HOME, SEARCH, CATEGORY, PRODUCT, CART, CHECKOUT, PAYMENT, ORDER_CONFIRMATION, PROFILE, SETTINGS, \
    LOGIN, WISHLIST, ORDERS, NOTIFICATIONS = range(15)

SCREEN_NAMES_ANDROID = (
    "SplashActivity", "HomeActivity", "SearchActivity", "CategoryActivity", "ProductActivity",
    "CartActivity", "CheckoutActivity", "PaymentActivity", "OrderConfirmationActivity", "ProfileActivity",
    "SettingsActivity", "LoginActivity", "WishlistActivity", "OrderHistoryActivity", "NotificationsActivity",
)
SCREEN_NAMES_IOS = (
    "SplashViewController", "HomeViewController", "SearchViewController", "CategoryViewController",
    "ProductViewController", "CartViewController", "CheckoutViewController", "PaymentViewController",
    "OrderConfirmationViewController", "ProfileViewController", "SettingsViewController",
    "LoginViewController", "WishlistViewController", "OrderHistoryViewController",
    "NotificationsViewController",
)
#: web URL paths; CATEGORY and PRODUCT are expanded per category / product ("/category/shoes", "/products/42")
SCREEN_NAMES_WEB = (
    "/", "/", "/search", "/category/{}", "/products/{}", "/cart", "/checkout", "/checkout/payment",
    "/order/confirmation", "/account", "/account/settings", "/login", "/wishlist", "/account/orders",
    "/account/notifications",
)

#: Markov transitions: state -> ((next state, weight), ...).
#: PRODUCT and CART have variants that depend on whether something was added to the cart
#: in this session; those are in TRANSITIONS_AFTER_ADD / CART_EMPTY.
TRANSITIONS: dict[int, tuple[tuple[int, int], ...]] = {
    SPLASH: ((HOME, 92), (LOGIN, 8)),
    LOGIN: ((HOME, 100),),
    HOME: (
        (SEARCH, 20), (CATEGORY, 26), (PRODUCT, 20), (PROFILE, 6), (WISHLIST, 4), (NOTIFICATIONS, 4),
        (CART, 7), (SETTINGS, 2), (ORDERS, 3), (HOME, 8),
    ),
    SEARCH: ((PRODUCT, 55), (SEARCH, 12), (CATEGORY, 10), (HOME, 23)),
    CATEGORY: ((PRODUCT, 58), (CATEGORY, 12), (HOME, 16), (SEARCH, 14)),
    PRODUCT: ((PRODUCT, 26), (CART, 6), (CATEGORY, 18), (SEARCH, 16), (HOME, 28), (WISHLIST, 6)),
    CART: ((CHECKOUT, 48), (PRODUCT, 16), (HOME, 26), (CATEGORY, 10)),
    CHECKOUT: ((PAYMENT, 72), (CART, 18), (HOME, 10)),
    PAYMENT: ((ORDER_CONFIRMATION, 76), (CHECKOUT, 14), (CART, 10)),
    ORDER_CONFIRMATION: ((HOME, 68), (ORDERS, 27), (PRODUCT, 5)),
    PROFILE: ((SETTINGS, 25), (ORDERS, 30), (WISHLIST, 15), (HOME, 30)),
    SETTINGS: ((PROFILE, 40), (HOME, 60)),
    WISHLIST: ((PRODUCT, 50), (HOME, 38), (CART, 12)),
    ORDERS: ((HOME, 55), (PRODUCT, 25), (PROFILE, 20)),
    NOTIFICATIONS: ((PRODUCT, 45), (HOME, 55)),
}
#: from a product screen right after "Add to cart"
PRODUCT_AFTER_ADD: tuple[tuple[int, int], ...] = ((CART, 55), (PRODUCT, 12), (HOME, 15), (CATEGORY, 10), (SEARCH, 8))
#: cart screen when nothing was added during this session (no checkout possible)
CART_EMPTY: tuple[tuple[int, int], ...] = ((PRODUCT, 30), (HOME, 45), (CATEGORY, 15), (SEARCH, 10))

#: how mobile sessions start: (state, weight)
MOBILE_ENTRY = ((SPLASH, 78), (HOME, 16), (NOTIFICATIONS, 3), (PRODUCT, 3))
#: how web sessions start (landing page)
WEB_ENTRY = ((HOME, 55), (CATEGORY, 20), (PRODUCT, 20), (SEARCH, 5))

#: screens on which a crash tends to happen (state, weight)
CRASH_SCREENS = ((PAYMENT, 30), (CHECKOUT, 20), (PRODUCT, 22), (SEARCH, 14), (CART, 14))

#: local-time hour-of-day activity (0..23), peak in the evening
HOURLY_ACTIVITY = (
    0.34, 0.20, 0.12, 0.08, 0.07, 0.10, 0.20, 0.38, 0.52, 0.58, 0.61, 0.65,
    0.74, 0.71, 0.64, 0.62, 0.65, 0.74, 0.87, 0.96, 1.00, 0.95, 0.80, 0.55,
)
#: day-of-week activity, Monday..Sunday
WEEKDAY_ACTIVITY = (0.92, 0.90, 0.91, 0.93, 0.97, 1.0, 0.98)
# fmt: on

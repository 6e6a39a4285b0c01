"""A real, playable H.264 MP4 written in pure Python: the demo's replays, and the tests', without ffmpeg or the network.

The video is H.264 Constrained Baseline with every macroblock coded as I_PCM (raw samples, no prediction,
no transform), so the encoder is a few bit writes per macroblock; every frame is an IDR picture. The
container is a plain ISO BMFF file (ftyp, moov with one avc1 track, mdat) with the index before the
data, as a streaming player wants it. Frames show a small phone-like screen with a moving card, so a
screenshot of the player shows that it decoded.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable

RGB = tuple[int, int, int]


# -- H.264 bitstream -----------------------------------------------------------------------------------------


class Bits:
    def __init__(self) -> None:
        self.out = bytearray()
        self.acc = 0
        self.n = 0

    def u(self, width: int, value: int) -> None:
        for i in range(width - 1, -1, -1):
            self.acc = (self.acc << 1) | ((value >> i) & 1)
            self.n += 1
            if self.n == 8:
                self.out.append(self.acc)
                self.acc = self.n = 0

    def ue(self, value: int) -> None:
        code = value + 1
        self.u(code.bit_length() * 2 - 1, code)

    def se(self, value: int) -> None:
        self.ue(2 * value - 1 if value > 0 else -2 * value)

    def align_zero(self) -> None:
        while self.n:
            self.u(1, 0)

    def raw(self, data: bytes) -> None:
        assert self.n == 0
        self.out += data

    def trailing(self) -> bytes:
        self.u(1, 1)
        self.align_zero()
        return bytes(self.out)


def _escape(rbsp: bytes) -> bytes:
    """Emulation prevention: no 00 00 0x (x <= 3) inside a NAL unit."""
    out = bytearray()
    zeros = 0
    for b in rbsp:
        if zeros >= 2 and b <= 3:
            out.append(3)
            zeros = 0
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return bytes(out)


def _nal(ref_idc: int, kind: int, rbsp: bytes) -> bytes:
    return bytes([(ref_idc << 5) | kind]) + _escape(rbsp)


def _sps(mb_w: int, mb_h: int) -> bytes:
    b = Bits()
    b.u(8, 66)  # profile_idc: Baseline
    b.u(8, 0xC0)  # constraint_set0 + set1: Constrained Baseline
    b.u(8, 30)  # level 3.0
    b.ue(0)  # seq_parameter_set_id
    b.ue(0)  # log2_max_frame_num_minus4
    b.ue(2)  # pic_order_cnt_type 2: output order = decoding order
    b.ue(1)  # max_num_ref_frames
    b.u(1, 0)  # gaps_in_frame_num_value_allowed_flag
    b.ue(mb_w - 1)
    b.ue(mb_h - 1)
    b.u(1, 1)  # frame_mbs_only_flag
    b.u(1, 1)  # direct_8x8_inference_flag
    b.u(1, 0)  # frame_cropping_flag
    b.u(1, 0)  # vui_parameters_present_flag
    return _nal(3, 7, b.trailing())


def _pps() -> bytes:
    b = Bits()
    b.ue(0)  # pic_parameter_set_id
    b.ue(0)  # seq_parameter_set_id
    b.u(1, 0)  # entropy_coding_mode_flag: CAVLC
    b.u(1, 0)  # bottom_field_pic_order_in_frame_present_flag
    b.ue(0)  # num_slice_groups_minus1
    b.ue(0)  # num_ref_idx_l0_default_active_minus1
    b.ue(0)  # num_ref_idx_l1_default_active_minus1
    b.u(1, 0)  # weighted_pred_flag
    b.u(2, 0)  # weighted_bipred_idc
    b.se(0)  # pic_init_qp_minus26
    b.se(0)  # pic_init_qs_minus26
    b.se(0)  # chroma_qp_index_offset
    b.u(1, 0)  # deblocking_filter_control_present_flag
    b.u(1, 0)  # constrained_intra_pred_flag
    b.u(1, 0)  # redundant_pic_cnt_present_flag
    return _nal(3, 8, b.trailing())


def _yuv(rgb: RGB) -> tuple[int, int, int]:
    r, g, bl = rgb
    y = 16 + (65.738 * r + 129.057 * g + 25.064 * bl) / 256
    u = 128 + (-37.945 * r - 74.494 * g + 112.439 * bl) / 256
    v = 128 + (112.439 * r - 94.154 * g - 18.285 * bl) / 256
    # I_PCM samples may be any byte but 0 keeps the stream far from start-code emulation
    return tuple(max(1, min(254, round(c))) for c in (y, u, v))  # type: ignore[return-value]


def _idr_slice(mb_w: int, mb_h: int, pixel: Callable[[int, int], RGB], idr_id: int) -> bytes:
    b = Bits()
    b.ue(0)  # first_mb_in_slice
    b.ue(7)  # slice_type: I (all slices of the picture)
    b.ue(0)  # pic_parameter_set_id
    b.u(4, 0)  # frame_num (4 bits: log2_max_frame_num = 4); 0 for an IDR picture
    b.ue(idr_id)  # idr_pic_id: differs between consecutive IDR pictures
    b.u(1, 0)  # no_output_of_prior_pics_flag
    b.u(1, 0)  # long_term_reference_flag
    b.se(0)  # slice_qp_delta
    for my in range(mb_h):
        for mx in range(mb_w):
            b.ue(25)  # mb_type I_PCM
            b.align_zero()  # pcm_alignment_zero_bit
            ys = bytearray()
            us = bytearray()
            vs = bytearray()
            for y in range(16):
                for x in range(16):
                    ys.append(_yuv(pixel(mx * 16 + x, my * 16 + y))[0])
            for y in range(8):
                for x in range(8):
                    _, u, v = _yuv(pixel(mx * 16 + 2 * x, my * 16 + 2 * y))
                    us.append(u)
                    vs.append(v)
            b.raw(bytes(ys) + bytes(us) + bytes(vs))
    return _nal(3, 5, b.trailing())


# -- the MP4 container ---------------------------------------------------------------------------------------


def _box(kind: bytes, *parts: bytes) -> bytes:
    payload = b"".join(parts)
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _full(kind: bytes, version: int, flags: int, *parts: bytes) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags), *parts)


_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def _moov(width: int, height: int, sizes: list[int], fps: int, sps: bytes, pps: bytes, offset: int) -> bytes:
    timescale = fps * 100
    duration = len(sizes) * 100
    mvhd = _full(
        b"mvhd", 0, 0,
        struct.pack(">IIII", 0, 0, timescale, duration),
        struct.pack(">IH", 0x10000, 0x100), b"\0" * 10, _MATRIX, b"\0" * 24, struct.pack(">I", 2),
    )  # fmt: skip
    tkhd = _full(
        b"tkhd", 0, 3,
        struct.pack(">IIIII", 0, 0, 1, 0, duration), b"\0" * 8,
        struct.pack(">hhhH", 0, 0, 0, 0), _MATRIX, struct.pack(">II", width << 16, height << 16),
    )  # fmt: skip
    mdhd = _full(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, timescale, duration, 0x55C4, 0))
    hdlr = _full(b"hdlr", 0, 0, struct.pack(">I4s12s", 0, b"vide", b"\0" * 12), b"VideoHandler\0")
    avcc = _box(
        b"avcC",
        bytes([1, sps[1], sps[2], sps[3], 0xFF, 0xE1]), struct.pack(">H", len(sps)), sps,
        bytes([1]), struct.pack(">H", len(pps)), pps,
    )  # fmt: skip
    name = b"sessionscope"
    avc1 = _box(
        b"avc1",
        b"\0" * 6, struct.pack(">H", 1), b"\0" * 16, struct.pack(">HH", width, height),
        struct.pack(">II", 0x480000, 0x480000), b"\0" * 4, struct.pack(">H", 1),
        bytes([len(name)]) + name + b"\0" * (31 - len(name)), struct.pack(">Hh", 0x18, -1), avcc,
    )  # fmt: skip
    stbl = _box(
        b"stbl",
        _full(b"stsd", 0, 0, struct.pack(">I", 1), avc1),
        _full(b"stts", 0, 0, struct.pack(">III", 1, len(sizes), 100)),
        _full(b"stsc", 0, 0, struct.pack(">IIII", 1, 1, len(sizes), 1)),
        _full(
            b"stsz", 0, 0, struct.pack(">II", 0, len(sizes)), b"".join(struct.pack(">I", s) for s in sizes)
        ),
        _full(b"stco", 0, 0, struct.pack(">II", 1, offset)),
    )
    vmhd = _full(b"vmhd", 0, 1, b"\0" * 8)
    dinf = _box(b"dinf", _full(b"dref", 0, 0, struct.pack(">I", 1), _full(b"url ", 0, 1)))
    minf = _box(b"minf", vmhd, dinf, stbl)
    return _box(b"moov", mvhd, _box(b"trak", tkhd, _box(b"mdia", mdhd, hdlr, minf)))


def _frames_pixels(width: int, height: int, frames: int) -> Iterable[Callable[[int, int], RGB]]:
    """A phone-like screen: an indigo app bar, list rows, and a card sliding down as the video plays."""
    for f in range(frames):
        card_top = 40 + (height - 80) * f // max(1, frames - 1)

        def pixel(x: int, y: int, card_top: int = card_top) -> RGB:
            if y < 24:
                return (67, 56, 202)
            if card_top <= y < card_top + 28 and 8 <= x < width - 8:
                return (14, 159, 110)
            if (y - 24) % 24 < 2:
                return (226, 229, 234)
            if 8 <= x < 24 and 6 <= (y - 24) % 24 < 20:
                return (203, 213, 225)
            return (250, 250, 252)

        yield pixel


def make_mp4(width: int = 96, height: int = 176, frames: int = 12, fps: int = 6) -> bytes:
    """A playable H.264 MP4 (`frames` frames at `fps`); width and height are multiples of 16."""
    assert width % 16 == 0 and height % 16 == 0
    mb_w, mb_h = width // 16, height // 16
    sps, pps = _sps(mb_w, mb_h), _pps()
    samples = []
    for i, pixel in enumerate(_frames_pixels(width, height, frames)):
        nal = _idr_slice(mb_w, mb_h, pixel, i % 2)
        samples.append(struct.pack(">I", len(nal)) + nal)
    ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isomiso2avc1mp41")
    sizes = [len(s) for s in samples]
    head = len(ftyp) + len(_moov(width, height, sizes, fps, sps, pps, 0))
    moov = _moov(width, height, sizes, fps, sps, pps, head + 8)
    return ftyp + moov + _box(b"mdat", *samples)

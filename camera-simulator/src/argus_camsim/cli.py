"""Command line of the simulator: ``argus-camsim --cameras N ...``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from pathlib import Path

from argus_camsim.app import Simulator
from argus_camsim.audio import AUDIO_CODECS
from argus_camsim.config import (
    AUTH_MODES,
    PROFILES,
    SOURCES,
    EncodeSettings,
    SimConfig,
    default_cache_dir,
    parse_size,
)

log = logging.getLogger("argus_camsim")


def _size(text: str) -> tuple[int, int]:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _kbps(text: str) -> int:
    value = int(text)
    if not 16 <= value <= 200_000:
        raise argparse.ArgumentTypeError("bitrate is in kbit/s, 16..200000")
    return value * 1000


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also documents every flag in ``--help``)."""
    p = argparse.ArgumentParser(
        prog="argus-camsim",
        description="Virtual IP cameras: RTSP (H.264, optional audio), ONVIF, fault injection.",
    )
    a = p.add_argument
    a("--cameras", type=int, default=1, help="number of cameras (cam1..camN)")
    a("--host", default="127.0.0.1", help="address every server binds (0.0.0.0 in Docker)")
    a("--public-host", default=None, help="host name put into URLs handed out")
    a("--rtsp-port", type=int, default=8554)
    a("--control-port", type=int, default=8099)
    a(
        "--onvif-port",
        type=int,
        default=8100,
        help="ONVIF port of cam1; camN gets onvif-port+N-1 (0 = free ports)",
    )
    a("--no-onvif", action="store_true", help="do not start the ONVIF devices")
    a("--discovery", action="store_true", help="answer WS-Discovery probes (UDP 3702)")
    a("--discovery-port", type=int, default=3702)
    a("--auth", choices=AUTH_MODES, default="none", help="RTSP authentication")
    a("--username", default="admin")
    a("--password", default="admin")
    a(
        "--no-digest-qop",
        action="store_true",
        help="Digest challenge without qop (RFC 2069 style); answers with qop still work",
    )
    a(
        "--digest-algorithm",
        choices=("MD5", "MD5-sess"),
        default="MD5",
        help="Digest algorithm to challenge with (MD5-sess: H(A1) covers nonce and cnonce)",
    )
    a("--resolution", type=_size, default=(1280, 720), help="main stream WxH")
    a("--sub-resolution", type=_size, default=(640, 360), help="sub stream WxH")
    a("--fps", type=int, default=30)
    a("--sub-fps", type=int, default=None, help="sub stream frame rate (default: --fps)")
    a("--bitrate", type=_kbps, default=None, help="main kbit/s (default: by size, 4000 @1080p)")
    a("--sub-bitrate", type=_kbps, default=None, help="sub kbit/s (default: by size)")
    a("--gop", type=float, default=1.0, help="keyframe interval in seconds")
    a("--profile", choices=PROFILES, default="main", help="H.264 profile")
    a("--bframes", type=int, default=0, help="B-frames between P-frames (default none)")
    a("--audio", action="store_true", help="add an AAC tone track (live source)")
    a(
        "--audio-codec",
        action="append",
        default=[],
        metavar="[CAM:]CODEC",
        help=f"audio codec ({', '.join(AUDIO_CODECS)}, none) of every camera, or of one "
        "camera with camN:CODEC (repeatable; implies --audio)",
    )
    a(
        "--source",
        choices=SOURCES,
        default="live",
        help="live: render and encode; loop: replay a pre-encoded clip (no encoding)",
    )
    a("--loop-file", type=Path, default=None, help="H.264 file to loop as the main stream")
    a("--loop-file-sub", type=Path, default=None, help="H.264 file to loop as the sub stream")
    a("--loop-seconds", type=float, default=4.0, help="length of a generated loop clip")
    a("--cache-dir", type=Path, default=default_cache_dir(), help="where clips are cached")
    a("--motion", action="store_true", help="start with moving objects on every camera")
    a("--edge-minutes", type=float, default=0.0,
      help="edge storage: each camera records its last N minutes itself (ONVIF Profile G)")
    a("--objects", action="store_true",
      help="start with a person walking and a car driving through every camera's picture")
    a(
        "--fault",
        action="append",
        default=[],
        metavar="CAM:FAULT[=V]",
        help="initial fault, e.g. cam2:stall, cam2:corrupt, cam3:offline_s=30 (repeatable)",
    )
    a(
        "--quirk",
        action="append",
        default=[],
        metavar="CAM:QUIRK",
        help="ONVIF quirk of a camera, e.g. cam2:slow, cam3:bad_presets (repeatable)",
    )
    a("--session-timeout", type=float, default=60.0, help="RTSP session timeout, seconds")
    a(
        "--linger",
        type=float,
        default=10.0,
        help="seconds a stream keeps encoding after its last client left",
    )
    a(
        "--client-buffer-kb",
        type=int,
        default=None,
        help="per-client send backlog before frames are skipped (default ~1 s of video); "
        "also caps the socket's kernel send buffer",
    )
    a(
        "--slow-drop-s",
        type=float,
        default=10.0,
        help="disconnect a client that stays backed up this long",
    )
    a("--name-prefix", default="Camera", help="camera names are '<prefix> N'")
    a("--log-level", default="INFO")
    return p


def apply_env_defaults(parser: argparse.ArgumentParser) -> None:
    """Let ``CAMSIM_<FLAG>`` environment variables set flag defaults (for Compose).

    ``CAMSIM_CAMERAS=4`` acts like ``--cameras 4``; booleans take 1/true/yes/on; the
    repeatable ``--fault`` takes a comma-separated list. Flags on the command line win.
    """
    for action in parser._actions:
        if not action.option_strings or action.dest == "help":
            continue
        raw = os.environ.get(f"CAMSIM_{action.dest.upper()}")
        if raw is None:
            continue
        value: object
        if isinstance(action, argparse._StoreTrueAction):
            value = raw.strip().lower() in ("1", "true", "yes", "on")
        elif isinstance(action, argparse._AppendAction):
            value = [item.strip() for item in raw.split(",") if item.strip()]
        elif callable(action.type):
            try:
                value = action.type(raw)
            except (ValueError, argparse.ArgumentTypeError) as exc:
                parser.error(f"CAMSIM_{action.dest.upper()}: {exc}")
        else:
            value = raw
        parser.set_defaults(**{action.dest: value})


def parse_audio_codecs(specs: list[str], cameras: int) -> tuple[str | None, dict[int, str]]:
    """``--audio-codec`` values: the codec of every camera (None: not given) and per camera."""
    every: str | None = None
    per_camera: dict[int, str] = {}
    for spec in specs:
        cam, _, codec = spec.strip().lower().rpartition(":")
        if codec not in (*AUDIO_CODECS, "none"):
            raise SystemExit(f"--audio-codec {spec!r}: codec must be one of "
                             f"{', '.join(AUDIO_CODECS)}, none")
        if not cam:
            every = codec
            continue
        index = int(cam[3:]) if cam.startswith("cam") and cam[3:].isdigit() else 0
        if not 1 <= index <= cameras:
            raise SystemExit(f"--audio-codec {spec!r}: no camera {cam!r} (cam1..cam{cameras})")
        per_camera[index] = codec
    return every, per_camera


def config_from_args(args: argparse.Namespace) -> SimConfig:
    """Turn parsed arguments into a :class:`SimConfig`."""
    if args.cameras < 1 or args.cameras > 1000:
        raise SystemExit("--cameras must be between 1 and 1000")
    if args.fps < 1 or args.fps > 120:
        raise SystemExit("--fps must be between 1 and 120")
    audio_every, camera_audio = parse_audio_codecs(args.audio_codec, args.cameras)
    main = EncodeSettings(
        fps=args.fps,
        bitrate=args.bitrate,
        gop_s=args.gop,
        profile=args.profile,
        bframes=args.bframes,
    )
    sub = EncodeSettings(
        fps=args.sub_fps or args.fps,
        bitrate=args.sub_bitrate,
        gop_s=args.gop,
        profile=args.profile,
        bframes=args.bframes,
    )
    return SimConfig(
        cameras=args.cameras,
        host=args.host,
        public_host=args.public_host,
        rtsp_port=args.rtsp_port,
        onvif_port=args.onvif_port,
        onvif=not args.no_onvif,
        discovery=args.discovery,
        discovery_port=args.discovery_port,
        control_port=args.control_port,
        auth=args.auth,
        username=args.username,
        password=args.password,
        digest_qop=not args.no_digest_qop,
        digest_algorithm=args.digest_algorithm,
        width=args.resolution[0],
        height=args.resolution[1],
        sub_width=args.sub_resolution[0],
        sub_height=args.sub_resolution[1],
        main=main,
        sub=sub,
        audio=args.audio or audio_every is not None,
        audio_codec=audio_every or "aac",
        camera_audio=camera_audio,
        source=args.source,
        loop_file=args.loop_file,
        loop_file_sub=args.loop_file_sub,
        loop_seconds=args.loop_seconds,
        cache_dir=args.cache_dir,
        motion=args.motion,
        edge_minutes=args.edge_minutes,
        objects=args.objects,
        session_timeout=args.session_timeout,
        linger_s=args.linger,
        client_buffer_bytes=args.client_buffer_kb * 1024 if args.client_buffer_kb else None,
        slow_drop_s=args.slow_drop_s,
        name_prefix=args.name_prefix,
        faults=args.fault,
        quirks=args.quirk,
        log_level=args.log_level,
    )


async def run(config: SimConfig) -> None:
    """Run the simulator until SIGINT/SIGTERM."""
    sim = Simulator(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await sim.start()
        ready = {
            "rtsp_port": sim.rtsp_port,
            "control_port": sim.control_port,
            "onvif_ports": sim.onvif_ports,
            "cameras": list(sim.cameras),
        }
        # One machine-readable line for scripts and tests waiting for start-up.
        print("argus-camsim ready " + json.dumps(ready), flush=True)
        await stop.wait()
    finally:
        log.info("shutting down")
        await sim.close()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``argus-camsim`` command."""
    parser = build_parser()
    apply_env_defaults(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(
        stream=sys.stdout,
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    # libav's own messages (x264 banners) stay quiet unless debugging.
    logging.getLogger("libav").setLevel(logging.WARNING)
    config = config_from_args(args)
    try:
        asyncio.run(run(config))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

# PyInstaller run-time hook of the customer's program (scripts/supportlink-peer.spec): voice
# uses the PortAudio that the program carries.
#
# sounddevice loads PortAudio with ctypes.util.find_library("portaudio"), which on Linux asks
# ldconfig's cache (or gcc, ld) and never looks inside the program's folder: on a desktop
# without libportaudio2 it finds nothing, and on one with it, the system's copy rather than
# the one the build put beside the program (and checked). On Windows and macOS sounddevice
# falls back to the library from its own wheel, which PyInstaller's hook collects: nothing to
# do there (no libportaudio.so.2 in the folder).


def _use_the_bundled_portaudio() -> None:
    import ctypes.util
    import os
    import sys

    bundled = os.path.join(getattr(sys, "_MEIPASS", ""), "libportaudio.so.2")
    if not os.path.isfile(bundled):
        return
    system_find = ctypes.util.find_library

    def find_library(name: str) -> str | None:
        return bundled if name == "portaudio" else system_find(name)

    ctypes.util.find_library = find_library


_use_the_bundled_portaudio()
del _use_the_bundled_portaudio

"""The customer's microphone and speakers (PortAudio through ``sounddevice``).

- ``levels``: pure helpers (dBFS, frame conversion, the playout ``JitterBuffer``, ``Meter``);
- ``devices``: ``Microphone`` (an aiortc audio track), ``Speaker`` (plays a remote track),
  device listing; ``sounddevice`` is imported only when a device is first used.
"""

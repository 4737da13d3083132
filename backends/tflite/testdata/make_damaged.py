"""Makes damaged.tflite: dense.tflite with byte 156 set to 36 (found by changing 1-4 random bytes of it,
3,000 times, and running each). LiteRT 2.3.0 loads it, then throws std::logic_error ("basic_string::
_M_construct null not valid") out of LiteRtGetCompiledModelOutputTensorLayouts when it runs.

  python3 backends/tflite/testdata/make_damaged.py
"""
import os

here = os.path.dirname(os.path.abspath(__file__))
blob = bytearray(open(os.path.join(here, "dense.tflite"), "rb").read())
assert blob[156] == 156, "dense.tflite was made again: find another damage"
blob[156] = 36
open(os.path.join(here, "damaged.tflite"), "wb").write(blob)

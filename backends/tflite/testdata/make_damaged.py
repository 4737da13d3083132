"""Makes the damaged models, each a test model with one byte changed (found by changing 1-4 random bytes of
it, thousands of times, and trying each with LiteRT 2.3.0):

throws.tflite   dense.tflite, byte 156 set to 36: LiteRT loads it, then throws std::logic_error
                ("basic_string::_M_construct null not valid") out of LiteRtGetCompiledModelOutputTensorLayouts
                when it runs.
crashes.tflite  quantized.tflite, byte 2105 set to 253: a segmentation fault in LiteRtCreateCompiledModel.

  python3 backends/tflite/testdata/make_damaged.py
"""
import os

here = os.path.dirname(os.path.abspath(__file__))


def damage(source, at, was, now, out):
    blob = bytearray(open(os.path.join(here, source), "rb").read())
    assert blob[at] == was, f"{source} was made again: find another damage"
    blob[at] = now
    open(os.path.join(here, out), "wb").write(blob)


damage("dense.tflite", 156, 156, 36, "throws.tflite")
damage("quantized.tflite", 2105, 0, 253, "crashes.tflite")

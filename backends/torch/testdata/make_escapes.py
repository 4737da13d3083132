"""Makes TorchScript archives, written by hand (no torch needed), whose code reaches files in ways the
TORCH backend must refuse:

  fork_from_file.pt      forward forks a closure that calls torch.from_file (the closure's graph is an
                         attribute of prim::fork, not a block)
  setstate_from_file.pt  __setstate__, which torch::jit::load runs, maps /tmp/gorai_torch_setstate_written
                         with torch.from_file(shared=True) and fills it
  setstate_upper.pt      the same, its code file named code/__torch__.PY (libtorch finds an archive's
                         files in any letter case)

and one whose load never ends, for the trial program's handling of a trial nobody waits for:

  setstate_endless.pt    __setstate__ counts to 9e18

  python3 backends/torch/testdata/make_escapes.py
"""
import os
import zipfile

HEADER = """class M(Module):
  __parameters__ = []
  __buffers__ = []
  training : bool
"""

FORK = HEADER + """  def forward(self: __torch__.M,
    x: Tensor) -> Tensor:
    def __forked_function() -> Tensor:
      return torch.from_file("/etc/hostname", False, 3, dtype=0)
    fut = fork(__forked_function)
    return torch.wait(fut)
"""

def with_setstate(body):
    """A module whose __setstate__, which torch::jit::load runs, sets the training flag, then runs body."""
    return HEADER + """  data : Tensor
  def forward(self: __torch__.M,
    x: Tensor) -> Tensor:
    return self.data
  def __getstate__(self: __torch__.M) -> Tuple[bool]:
    return (self.training,)
  def __setstate__(self: __torch__.M,
    state: Tuple[bool]) -> NoneType:
    self.training = state[0]
""" + body + """    return None
"""


SETSTATE = with_setstate("""    self.data = torch.fill_(torch.from_file("/tmp/gorai_torch_setstate_written", True, 6, dtype=0), 65)
""")

ENDLESS = with_setstate("""    i = 0
    while i < 9000000000000000000:
      i = i + 1
    self.data = torch.zeros([1])
""")

# Pickle protocol 2: an object of class __torch__.M (GLOBAL, EMPTY_TUPLE, NEWOBJ) built with a state.
NEWOBJ_M = b"\x80\x02c__torch__\nM\nq\x00)\x81"
# {"training": True} as the module's attributes (BUILD with a dict), for forward alone.
STATE_DICT = b"}X\x08\x00\x00\x00trainingq\x01\x88sb."
# (True,) for __setstate__ (BUILD with what __getstate__ gave).
STATE_TUPLE = b"\x88\x85b."


def archive(path, code, data, code_name="code/__torch__.py"):
    name = os.path.splitext(os.path.basename(path))[0]
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(name + "/data.pkl", data)
        z.writestr(name + "/" + code_name, code)
        z.writestr(name + "/constants.pkl", b"\x80\x02).")
        z.writestr(name + "/version", b"3\n")


here = os.path.dirname(os.path.abspath(__file__))
archive(os.path.join(here, "fork_from_file.pt"), FORK, NEWOBJ_M + STATE_DICT)
archive(os.path.join(here, "setstate_from_file.pt"), SETSTATE, NEWOBJ_M + STATE_TUPLE)
archive(os.path.join(here, "setstate_upper.pt"), SETSTATE, NEWOBJ_M + STATE_TUPLE, "code/__torch__.PY")
archive(os.path.join(here, "setstate_endless.pt"), ENDLESS, NEWOBJ_M + STATE_TUPLE)

"""Unit tests of rnnlab._validate: every message names what was expected and what came."""
import numpy as np
import pytest
import torch

from rnnlab import _validate as v


def test_check_int():
    assert v.check_int(3, "n") == 3
    assert type(v.check_int(np.int64(4), "n")) is int
    assert v.check_int(5, "n", minimum=5, maximum=5) == 5
    with pytest.raises(TypeError, match=r"n must be an int, got float \(2.0\)"):
        v.check_int(2.0, "n")
    with pytest.raises(TypeError, match="must be an int, got bool"):
        v.check_int(True, "n")
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        v.check_int(0, "n", minimum=1)
    with pytest.raises(ValueError, match="n must be <= 3, got 4"):
        v.check_int(4, "n", maximum=3)


def test_check_float():
    assert v.check_float(1, "lr") == 1.0 and isinstance(v.check_float(1, "lr"), float)
    assert v.check_float(np.float32(0.5), "lr") == 0.5
    assert v.check_float(0.0, "lr", minimum=0.0) == 0.0
    with pytest.raises(ValueError, match="lr must be > 0.0, got 0.0"):
        v.check_float(0.0, "lr", minimum=0.0, strict_min=True)
    with pytest.raises(ValueError, match="lr must be >= 1.0, got 0.5"):
        v.check_float(0.5, "lr", minimum=1.0)
    with pytest.raises(ValueError, match="lr must be <= 1.0, got 2.0"):
        v.check_float(2.0, "lr", maximum=1.0)
    with pytest.raises(ValueError, match="lr must be finite, got nan"):
        v.check_float(float("nan"), "lr")
    with pytest.raises(TypeError, match="lr must be a number, got str"):
        v.check_float("0.1", "lr")
    with pytest.raises(TypeError, match="lr must be a number, got bool"):
        v.check_float(False, "lr")


def test_check_choice():
    assert v.check_choice("tanh", "act", ["tanh", "relu"]) == "tanh"
    with pytest.raises(ValueError, match=r"act must be one of \['relu', 'tanh'\], got 'elu'"):
        v.check_choice("elu", "act", ["tanh", "relu"])


def test_check_array():
    x = np.zeros((2, 5, 3))
    assert v.check_array(x, "x", shape=("B", "T", 3)) is x
    assert v.check_array(x, "x", ndim=3) is x
    with pytest.raises(TypeError, match="x must be a numpy array, got list"):
        v.check_array([1.0], "x")
    with pytest.raises(ValueError, match=r"x must have 2 dimensions \('B', 3\), got numpy array "
                                         r"of shape \(2, 5, 3\)"):
        v.check_array(x, "x", shape=("B", 3))
    with pytest.raises(ValueError, match=r"x must have size 4 on axis 2 \(expected shape "
                                         r"\('B', 'T', 4\)\)"):
        v.check_array(x, "x", shape=("B", "T", 4))
    with pytest.raises(TypeError, match="floating dtype.*int64"):
        v.check_array(np.zeros(3, dtype=np.int64), "x")
    assert v.check_array(np.zeros(3, dtype=np.int64), "x", floating=False).dtype == np.int64


def test_check_tensor():
    x = torch.zeros(2, 3)
    assert v.check_tensor(x, "x", shape=("B", 3)) is x
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got numpy array"):
        v.check_tensor(np.zeros((2, 3)), "x")
    with pytest.raises(ValueError, match=r"x must have 3 dimensions, got torch.Tensor of shape "
                                         r"\(2, 3\)"):
        v.check_tensor(x, "x", ndim=3)
    with pytest.raises(ValueError, match="x must have size 2 on axis 1"):
        v.check_tensor(x, "x", shape=("B", 2))
    with pytest.raises(TypeError, match="floating dtype.*torch.int64"):
        v.check_tensor(torch.zeros(2, dtype=torch.long), "x")
    assert v.check_tensor(torch.zeros(2, dtype=torch.long), "x", floating=False) is not None
    z = torch.zeros(2, dtype=torch.complex64)
    assert v.check_tensor(z, "z", allow_complex=True) is z
    with pytest.raises(TypeError, match=r"z must have a floating dtype \(float32 or float64\)"):
        v.check_tensor(z, "z")


def test_check_instance(subtests):
    assert v.check_instance("a", "text", str) == "a"
    rows = [                        # (case, value, types, what, message)
        ("a builtin", 3, str, None, r"text must be a str, got int \(3\)"),
        ("a class of a module", "s", np.ndarray, None, "text must be a numpy.ndarray, got str"),
        ("a tuple, said in words", 3, (str, type(None)), "a str or None",
         r"text must be a str or None, got int \(3\)"),
    ]
    for case, value, types, what, message in rows:
        with subtests.test(case=case), pytest.raises(TypeError, match=message):
            v.check_instance(value, "text", types, what)


def test_check_ids_of_a_batch(subtests):
    assert v.check_ids([[1, 2], [3, 0]], "src", ndim=2).dtype == torch.long
    rows = [                        # (case, value, error, message)
        ("one row", torch.tensor([1, 2]), ValueError, r"src must be two-dimensional \(B, T\)"),
        ("floats", torch.ones(2, 3), TypeError, "src must hold integer ids"),
        ("a string", "ab", TypeError, r"src must be a 2-D tensor of ints \(B, T\), got str"),
    ]
    for case, value, error, message in rows:
        with subtests.test(case=case), pytest.raises(error, match=message):
            v.check_ids(value, "src", ndim=2)


def test_check_scalar(subtests):
    loss = torch.ones(())
    assert v.check_scalar(loss, "loss") is loss
    rows = [                        # (case, value, error, message)
        ("a float", 1.0, TypeError, r"loss must be a scalar tensor \(one number\), got float"),
        ("three numbers", torch.ones(3), ValueError,
         r"loss must be a scalar tensor \(one number\), got torch.Tensor of shape \(3,\)"),
    ]
    for case, value, error, message in rows:
        with subtests.test(case=case), pytest.raises(error, match=message):
            v.check_scalar(value, "loss")


def test_check_steps(subtests):
    x = np.zeros((2, 5, 3))
    assert v.check_steps(x, "x") is x
    rows = [                        # (case, value, batch, message)
        ("no time step, array", np.zeros((2, 0, 3)), False,
         r"x must have at least one time step, got numpy array of shape \(2, 0, 3\)"),
        ("no time step, tensor", torch.zeros(2, 0), False,
         r"x must have at least one time step, got torch.Tensor of shape \(2, 0\)"),
        ("no sequence", torch.zeros(0, 4, 3), True,
         "x must have at least one sequence and one time step"),
    ]
    for case, value, batch, message in rows:
        with subtests.test(case=case), pytest.raises(ValueError, match=message):
            v.check_steps(value, "x", batch=batch)
    assert v.check_steps(torch.zeros(0, 4, 3), "x") is not None   # no sequence: fine by default


def test_describe():
    assert v.describe(torch.zeros(2, 3)) == "torch.Tensor of shape (2, 3) and dtype torch.float32"
    assert v.describe(np.zeros(4)) == "numpy array of shape (4,) and dtype float64"
    assert v.describe([1, 2]) == "list ([1, 2])"
    assert len(v.describe("x" * 500)) < 80

"""Unit tests of rnnlab.gated: LSTMCell, GRUCell, ChoGRUCell against torch.nn, loading and
exporting weights (stacked layers too), the readable step, and bad inputs."""
import ast
import inspect
import itertools
import textwrap

import pytest
import torch
from torch import nn

from rnnlab import gradients, memory
from rnnlab.gated import ChoGRUCell, GRUCell, LSTMCell, cells_from_torch, cells_to_torch
from rnnlab.models import CELLS, BidirectionalLayer, RecurrentLayer, SequenceModel, make_cell

D, H, B, T = 3, 5, 4, 7
TORCH = {"lstm": nn.LSTM, "gru": nn.GRU}
TOL = {torch.float32: 1e-6, torch.float64: 1e-12}


def _x(*shape, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=dtype)


def _rel(a, b):
    """Largest difference relative to the largest entry of the reference."""
    a, b = a.detach(), b.detach()
    return float((a - b).abs().max() / b.abs().max().clamp_min(1.0))


def test_stacked_cells_equal_torch_outputs_states_and_every_gradient(subtests):
    for unroll, kind, dtype in itertools.product([False, True], ["lstm", "gru"],
                                                 [torch.float32, torch.float64]):
        with subtests.test(unroll=unroll, kind=kind, dtype=str(dtype)):
            torch.manual_seed(0)
            ref = TORCH[kind](D, H, num_layers=2, batch_first=True).to(dtype)
            cells = cells_from_torch(ref)
            assert [c.W_x.dtype for c in cells] == [dtype, dtype]
            x = _x(B, T, D, dtype=dtype)
            want, want_state = ref(x)
            out, finals = x, []
            for cell in cells:
                out, state = cell.unroll(out) if unroll else RecurrentLayer(cell)(out)
                finals.append(state)
            assert _rel(out, want) < TOL[dtype]
            if kind == "lstm":
                for part in range(2):  # h_n and c_n
                    got = torch.stack([s[part] for s in finals])
                    assert _rel(got, want_state[part]) < TOL[dtype]
            else:
                assert _rel(torch.stack(finals), want_state) < TOL[dtype]
            w = _x(B, T, H, seed=5, dtype=dtype)
            (out * w).sum().backward()
            (want * w).sum().backward()
            for layer, cell in enumerate(cells):
                grads = cell.torch_grads()
                assert set(grads) == {"weight_ih", "weight_hh", "bias_ih", "bias_hh"}
                for name, g in grads.items():
                    assert _rel(g, getattr(ref, f"{name}_l{layer}").grad) < TOL[dtype], \
                        (layer, name)


def test_one_step_equals_torch_cell_module(subtests):
    for cls, ref_cls in [(LSTMCell, nn.LSTMCell), (GRUCell, nn.GRUCell)]:
        with subtests.test(cls=cls.__name__):
            torch.manual_seed(1)
            ref = ref_cls(D, H).double()
            cell = cls.from_torch(ref)
            x_t, h = _x(B, D), _x(B, H, seed=1)
            if cls is LSTMCell:
                c = _x(B, H, seed=2)
                h_new, c_new = cell(x_t, (h, c))
                want_h, want_c = ref(x_t, (h, c))
                assert _rel(c_new, want_c) < 1e-12
            else:
                h_new, want_h = cell(x_t, h), ref(x_t, h)
            assert _rel(h_new, want_h) < 1e-12


def test_to_torch_round_trip_and_stacked_export(subtests):
    for cls in (LSTMCell, GRUCell):
        with subtests.test(cls=cls.__name__):
            torch.manual_seed(2)
            cells = [cls(D, H).double(), cls(H, H).double()]
            module = cells_to_torch(cells)
            assert module.batch_first and module.num_layers == 2
            x = _x(B, T, D)
            out = x
            for cell in cells:
                out, _ = cell.unroll(out)
            assert _rel(out, module(x)[0]) < 1e-12
            single = cells[0].to_torch()
            assert single.num_layers == 1
            back = cls.from_torch(single)
            for p, q in zip(back.parameters(), cells[0].parameters()):
                assert torch.equal(p, q)


def test_cho_form_differs_but_agrees_for_diagonal_W_hn_and_zero_b_hn():
    torch.manual_seed(3)
    ref = nn.GRU(D, H, batch_first=True).double()
    pt, cho = GRUCell.from_torch(ref), ChoGRUCell.from_torch(ref)
    x = _x(B, T, D)
    assert _rel(cho.unroll(x)[0], pt.unroll(x)[0]) > 1e-3
    with torch.no_grad():
        for cell in (pt, cho):
            W_hn = cell.weights("n")[1]
            W_hn.copy_(torch.diag(torch.diagonal(W_hn)))
            cell.b_hn.zero_()
    assert _rel(cho.unroll(x)[0], pt.unroll(x)[0]) < 1e-12


def test_weights_are_views_of_the_stacked_parameters():
    cell = LSTMCell(D, H)
    W_xf, W_hf, b_f = cell.weights("f")
    assert W_xf.shape == (H, D) and W_hf.shape == (H, H) and b_f.shape == (H,)
    with torch.no_grad():
        b_f.fill_(7.0)
    assert torch.all(cell.b[H:2 * H] == 7.0) and not torch.any(cell.b[:H] == 7.0)
    assert [g for g in GRUCell.GATES] == ["r", "z", "n"]


def test_forget_bias_option():
    cell = LSTMCell(D, H, forget_bias=1.0)
    assert torch.all(cell.weights("f")[2] == 1.0)
    bound = 1 / H ** 0.5
    default = LSTMCell(D, H)
    assert default.forget_bias is None and default.b.abs().max() <= bound
    model = SequenceModel(LSTMCell(D, H, forget_bias=2.0), 1)
    assert torch.all(model.cell.weights("f")[2] == 2.0)


def test_sequence_models_and_gradient_tools_take_gated_cells():
    assert CELLS["lstm"] is LSTMCell and CELLS["gru"] is GRUCell
    assert isinstance(make_cell("gru", D, H), GRUCell)
    x = _x(B, T, D, dtype=torch.float32)
    for kind in ("lstm", "gru"):
        model = SequenceModel(make_cell(kind, D, H), 2)
        assert model(x).shape == (B, 2)
        norms = gradients.hidden_grad_norms(model, x)
        assert norms.shape == (T,) and torch.all(norms > 0)


EQUATION_LINES = [                  # (cell, lines its forward must contain)
    (LSTMCell, ["a_i, a_f, a_g, a_o = a.chunk(4, dim=1)", "c = f * c_prev + i * g",
                "h = o * torch.tanh(c)"]),
    (GRUCell, ["r = torch.sigmoid(a_xr + a_hr)", "n = torch.tanh(a_xn + r * (a_hn + self.b_hn))",
               "h = (1 - z) * n + z * h_prev"]),
    (ChoGRUCell, ["n = torch.tanh(a_xn + (r * h_prev) @ W_hn.T + self.b_hn)"]),
]


def _statements(function) -> tuple[list[str], ast.FunctionDef]:
    """The assignments of ``function``'s body as normalised AST dumps (formatting, comments and
    line breaks do not change them), and the function's AST."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function))).body[0]
    return [ast.dump(node) for node in ast.walk(tree) if isinstance(node, ast.Assign)], tree


def test_forward_is_one_method_that_reads_as_the_equations(subtests):
    """Each equation of the chapter is one assignment of forward, compared as syntax trees, and
    forward calls no private helper of the cell."""
    for cls, lines in EQUATION_LINES:
        with subtests.test(cls=cls.__name__):
            assigned, tree = _statements(cls.forward)
            for line in lines:
                assert ast.dump(ast.parse(line).body[0]) in assigned, \
                    f"{cls.__name__}.forward should compute {line!r}"
            private = [node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
                       and isinstance(node.value, ast.Name) and node.value.id == "self"
                       and node.attr.startswith("_")]
            assert not private, f"forward hands its work to private helpers: {private}"


def test_unroll_with_precomputed_input_equals_step_by_step_forward(subtests):
    for cls in (LSTMCell, GRUCell, ChoGRUCell):
        with subtests.test(cls=cls.__name__):
            torch.manual_seed(7)
            cell = cls(D, H).double()
            x = _x(B, T, D)
            fast, fast_state = cell.unroll(x)
            slow, slow_state = RecurrentLayer(cell)(x)
            assert _rel(fast, slow) < 1e-14
            if cls is LSTMCell:   # the final states too: (h, c), or h
                assert isinstance(fast_state, tuple) and len(fast_state) == 2
                assert all(_rel(f, s) < 1e-14 for f, s in zip(fast_state, slow_state))
            else:
                assert _rel(fast_state, slow_state) < 1e-14


def _unroll_indexing(cell, x):
    """The formulation unroll replaced: step t reads ``x_proj[:, t]``, so its backward returns
    a whole ``(B, T, GH)`` gradient at every step (the reference the tests below compare to)."""
    state = cell.init_state(x.shape[0], dtype=x.dtype)
    x_proj = x @ cell.W_x.T + cell.b                             # (B, T, GH)
    outputs = []
    for t in range(x.shape[1]):
        state = cell(x[:, t], state, x_proj=x_proj[:, t])
        outputs.append(cell.hidden(state))                       # (B, H)
    return torch.stack(outputs, 1)                               # (B, T, H)


def _layer_indexing(cell, x):
    """RecurrentLayer's loop as it was, reading ``x[:, t]``."""
    state = cell.init_state(x.shape[0], dtype=x.dtype)
    outputs = []
    for t in range(x.shape[1]):
        state = cell(x[:, t], state)
        outputs.append(cell.hidden(state))                       # (B, H)
    return torch.stack(outputs, 1)                               # (B, T, H)


LOOPS = [        # (loop, loop(cell, x) -> outputs (B, T, H), its old indexing form)
    ("LSTMCell.unroll", lambda cell, x: cell.unroll(x)[0], _unroll_indexing),
    ("RecurrentLayer", lambda cell, x: RecurrentLayer(cell)(x)[0], _layer_indexing),
]


def test_time_loops_equal_their_indexing_form_bit_for_bit(subtests):
    """unbind reads the same numbers as x[:, t]: outputs and every gradient (input included)
    are identical in float64, for each cell kind."""
    for (name, loop, indexing), cls in itertools.product(LOOPS, (LSTMCell, GRUCell)):
        with subtests.test(loop=name, cls=cls.__name__):
            torch.manual_seed(8)
            cell = cls(D, H).double()
            x, w = _x(B, T, D).requires_grad_(), _x(B, T, H, seed=6)
            got, want = loop(cell, x), indexing(cell, x)
            assert torch.equal(got, want)
            inputs = [x, *cell.parameters()]
            for g_got, g_want in zip(torch.autograd.grad((got * w).sum(), inputs),
                                     torch.autograd.grad((want * w).sum(), inputs)):
                assert torch.equal(g_got, g_want)


def test_time_loops_backward_work_grows_linearly_with_T(subtests):
    """Doubling T doubles the gradient entries the backward pass computes (the input requires
    grad, as in a stacked layer), where indexing the sequence at every step nearly quadruples
    them: the T^2 backward of issue 27, caught without timing anything."""
    torch.manual_seed(9)
    cell = LSTMCell(4 * H, H).double()                # D = 4H: x's share of the work as x_proj's
    for name, loop, indexing in LOOPS:
        for version, fn in ((name, loop), (f"{name}, indexing form (control)", indexing)):
            with subtests.test(loop=version):
                entries = [memory.backward_entries(fn(cell, _x(B, steps, 4 * H).requires_grad_()))
                           for steps in (40, 80)]
                growth = entries[1] / entries[0]
                if fn is loop:
                    assert growth < 2.2, f"{version}: backward work x{growth:.2f} for 2T"
                else:
                    assert growth > 3, f"the control should grow as T^2, got x{growth:.2f}"


def test_lstm_carousel_jacobian_block_is_diag_f():
    torch.manual_seed(4)
    cell = LSTMCell(D, H).double()
    x = _x(1, T, D)
    J = gradients.step_jacobians(cell, x)                 # (T, 2H, 2H), state (h, c)
    f = cell.gate_activity(x)["f"][0]                     # (T, H)
    assert torch.equal(J[:, H:, H:], torch.diag_embed(f))


def _gates_by_hand(cell, x, h_prev):
    """Each gate at every step from its own weights (``cell.weights``) and the previous outputs
    ``h_prev (B, T, H)``: the chapter's equations, written here without the cell's forward."""
    def a(gate):                                          # (B, T, H): W_x. x_t + W_h. h + b.
        W_x, W_h, b = cell.weights(gate)
        return x @ W_x.T + h_prev @ W_h.T + b
    if isinstance(cell, LSTMCell):
        return {"i": a("i").sigmoid(), "f": a("f").sigmoid(), "g": a("g").tanh(),
                "o": a("o").sigmoid()}
    r, z = a("r").sigmoid(), a("z").sigmoid()
    W_xn, W_hn, b_n = cell.weights("n")
    if isinstance(cell, ChoGRUCell):
        n = torch.tanh(x @ W_xn.T + b_n + (r * h_prev) @ W_hn.T + cell.b_hn)
    else:
        n = torch.tanh(x @ W_xn.T + b_n + r * (h_prev @ W_hn.T + cell.b_hn))
    return {"r": r, "z": z, "n": n}


GATE_ACTIVITY = [                   # (cell, the names gate_activity returns)
    (LSTMCell, ["i", "f", "g", "o", "c", "h"]),
    (GRUCell, ["r", "z", "n", "h"]),
    (ChoGRUCell, ["r", "z", "n", "h"]),
]


def test_gate_activity_records_the_gates_of_forward(subtests):
    for cls, names in GATE_ACTIVITY:
        with subtests.test(cls=cls.__name__):
            torch.manual_seed(5)
            cell, x = cls(D, H).double(), _x(B, T, D)
            trace = cell.gate_activity(x)
            assert list(trace) == names
            assert all(v.shape == (B, T, H) for v in trace.values())
            assert torch.equal(trace["h"], RecurrentLayer(cell)(x)[0])
            h_prev = torch.cat([torch.zeros(B, 1, H, dtype=x.dtype), trace["h"][:, :-1]], 1)
            for name, want in _gates_by_hand(cell, x, h_prev).items():
                assert _rel(trace[name], want) < 1e-12, name
            if cls is LSTMCell:
                c_prev = torch.cat([torch.zeros(B, 1, H, dtype=x.dtype), trace["c"][:, :-1]], 1)
                assert _rel(trace["c"], trace["f"] * c_prev + trace["i"] * trace["g"]) < 1e-12


def test_bad_inputs():
    cell = LSTMCell(D, H)
    with pytest.raises(TypeError, match="input_size must be an int"):
        LSTMCell(2.0, H)
    with pytest.raises(ValueError, match="hidden_size must be >= 1"):
        GRUCell(D, 0)
    with pytest.raises(ValueError, match="gate must be one of"):
        cell.weights("z")
    with pytest.raises(TypeError, match="module must be torch.nn.LSTM or LSTMCell, got GRU"):
        cell.load_from_torch(nn.GRU(D, H))
    with pytest.raises(ValueError, match="shape mismatch"):
        cell.load_from_torch(nn.LSTM(D + 1, H))
    with pytest.raises(ValueError, match="is bidirectional"):
        cells_from_torch(nn.LSTM(D, H, bidirectional=True))
    with pytest.raises(ValueError, match="needs a bidirectional module"):
        cell.load_from_torch(nn.LSTM(D, H), reverse=True)
    with pytest.raises(ValueError, match="biased"):
        GRUCell(D, H).load_from_torch(nn.GRU(D, H, bias=False))
    with pytest.raises(ValueError, match="x must have size 3 on axis 2"):
        RecurrentLayer(cell)(torch.zeros(B, T, D + 1))
    with pytest.raises(ValueError, match=r"state\[1\] must have size 5"):
        RecurrentLayer(cell)(torch.zeros(B, T, D), (torch.zeros(B, H), torch.zeros(B, H + 1)))
    with pytest.raises(ValueError, match="x must have 3 dimensions"):
        cell.unroll(torch.zeros(B, D))
    with pytest.raises(ValueError, match=r"state must have size 4 on axis 0"):
        GRUCell(D, H).unroll(torch.zeros(B, T, D), torch.zeros(B + 1, H))
    with pytest.raises(TypeError, match="module must be torch.nn.LSTM or torch.nn.GRU"):
        cells_from_torch(nn.RNN(D, H))
    with pytest.raises(TypeError, match="no layer for ChoGRUCell"):
        ChoGRUCell(D, H).to_torch()
    with pytest.raises(TypeError, match="all be LSTMCell or all be GRUCell"):
        cells_to_torch([LSTMCell(D, H), GRUCell(H, H)])


def test_bidirectional_layer_of_two_cells_equals_torch_bidirectional(subtests):
    for kind in ("lstm", "gru"):
        with subtests.test(kind=kind):
            torch.manual_seed(8)
            ref = TORCH[kind](D, H, batch_first=True, bidirectional=True).double()
            cls = LSTMCell if kind == "lstm" else GRUCell
            layer = BidirectionalLayer(cls.from_torch(ref), cls.from_torch(ref, reverse=True))
            x = _x(B, T, D)
            got, _ = layer(x)
            assert got.shape == (B, T, 2 * H)
            assert _rel(got, ref(x)[0]) < 1e-12

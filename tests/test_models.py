"""Unit tests of rnnlab.models: RecurrentLayer, SequenceModel, cells and PyTorch's layers by
name."""
import pytest
import torch
from torch import nn

from rnnlab import init
from rnnlab.cells import RNNCell
from rnnlab.gated import LSTMCell
from rnnlab.models import RecurrentLayer, SequenceModel, make_cell, make_rnn
from rnnlab.runtime import make_generator

D, H, O, B, T = 2, 6, 3, 4, 9


def _x(*shape, seed=0, dtype=torch.float32):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def test_layer_shapes_and_last_output_is_state():
    layer = RecurrentLayer(RNNCell(D, H))
    outputs, state = layer(_x(B, T, D))
    assert outputs.shape == (B, T, H) and state.shape == (B, H)
    assert torch.equal(outputs[:, -1], state)


def test_layer_equals_a_hand_written_loop():
    cell = RNNCell(D, H).double()
    x = _x(B, T, D, dtype=torch.float64)
    h = torch.zeros(B, H, dtype=torch.float64)
    for t in range(T):
        h = torch.tanh(x[:, t] @ cell.W_xh.T + h @ cell.W_hh.T + cell.b_h)
    _, state = RecurrentLayer(cell)(x)
    assert torch.max(torch.abs(state - h)) < 1e-12


def test_state_passing_splits_a_sequence_exactly():
    layer = RecurrentLayer(RNNCell(D, H)).double()
    x = _x(B, T, D, dtype=torch.float64)
    full, h_full = layer(x)
    first, h_mid = layer(x[:, :4])
    second, h_end = layer(x[:, 4:], h_mid)
    assert torch.allclose(torch.cat([first, second], dim=1), full, atol=1e-12)
    assert torch.allclose(h_end, h_full, atol=1e-12)


def test_layer_zero_state_matches_default():
    layer = RecurrentLayer(RNNCell(D, H))
    x = _x(B, T, D)
    assert torch.equal(layer(x)[0], layer(x, torch.zeros(B, H))[0])


def test_layer_output_at_t_ignores_the_future():
    layer = RecurrentLayer(RNNCell(D, H)).double()
    x = _x(B, T, D, dtype=torch.float64)
    y = x.clone()
    y[:, 5:] += 1.0
    a, b = layer(x)[0], layer(y)[0]
    assert torch.equal(a[:, :5], b[:, :5]) and not torch.allclose(a[:, 5:], b[:, 5:])


def test_model_heads(subtests):
    for head, shape in [("last", (B, O)), ("all", (B, T, O))]:
        with subtests.test(head=head):
            model = SequenceModel(RNNCell(D, H), O, head=head)
            x = _x(B, T, D)
            y = model(x)
            assert y.shape == shape
            outputs, _ = model.layer(x)
            want = model.readout(outputs[:, -1] if head == "last" else outputs)
            assert torch.equal(y, want)


def test_model_return_state_and_continue():
    model = SequenceModel(RNNCell(D, H), O, head="all").double()
    x = _x(B, T, D, dtype=torch.float64)
    y_full = model(x)
    y1, s = model(x[:, :3], return_state=True)
    y2 = model(x[:, 3:], s)
    assert s.shape == (B, H)
    assert torch.allclose(torch.cat([y1, y2], dim=1), y_full, atol=1e-12)


def test_model_holds_the_cell_it_is_given_and_its_initialisation():
    torch.manual_seed(4)
    cell = RNNCell(D, H, nonlinearity="relu")
    W_hh = cell.W_hh.detach().clone()
    model = SequenceModel(cell, O)
    assert model.cell is cell and torch.equal(model.cell.W_hh, W_hh)
    torch.manual_seed(4)                      # the read-out is drawn after the cell:
    RNNCell(D, H)                             # the same draws as the cell above, then
    readout = nn.Linear(H, O)                 # the Linear's
    assert torch.equal(model.readout.weight, readout.weight)
    n = sum(p.numel() for p in model.parameters())
    assert n == (H * D + H * H + H) + (O * H + O)


def test_model_counts_do_not_depend_on_length():
    model = SequenceModel(RNNCell(D, H), O)
    n = sum(p.numel() for p in model.parameters())
    for length in (1, 5, 50):
        model(_x(1, length, D))
        assert sum(p.numel() for p in model.parameters()) == n


def test_the_initialiser_is_a_separate_call_on_the_cell(subtests):
    """Chapter 5's initialisations are rnnlab.init on model.cell: W_hh of a vanilla or
    normalised cell; a gated cell has no W_hh and says so."""
    for kind in ("rnn", "rnn_ln", "rnn_bn"):
        with subtests.test(kind=kind):
            model = SequenceModel(make_cell(kind, D, H), O)
            init.init_recurrent_(model.cell, "orthogonal", scale=1.3, generator=make_generator(0))
            want = 1.3 * init.orthogonal(H, generator=make_generator(0))
            assert torch.equal(model.cell.W_hh.detach(), want)
    with subtests.test(kind="lstm"), pytest.raises(TypeError, match="W_hh"):
        init.init_recurrent_(SequenceModel(LSTMCell(D, H), O).cell, "orthogonal")


def test_bad_inputs():
    layer = RecurrentLayer(RNNCell(D, H))
    with pytest.raises(ValueError, match=r"x must have 3 dimensions"):
        layer(_x(B, D))
    with pytest.raises(ValueError, match=r"x must have size 2 on axis 2"):
        layer(_x(B, T, D + 1))
    with pytest.raises(ValueError, match="at least one time step"):
        layer(torch.zeros(B, 0, D))
    with pytest.raises(TypeError, match="floating dtype"):
        layer(torch.zeros(B, T, D, dtype=torch.long))
    with pytest.raises(ValueError, match=r"state must have size 4 on axis 0"):
        layer(_x(B, T, D), torch.zeros(B + 1, H))
    with pytest.raises(TypeError, match="rnnlab cell"):
        RecurrentLayer(nn.Linear(D, H))


BAD_ARGUMENTS = [                   # (row id, the call, error, message)
    ("head='first'", lambda: SequenceModel(RNNCell(D, H), O, head="first"), ValueError,
     "head must be one of"),
    ("a kind name, not a cell", lambda: SequenceModel("lstm", O), TypeError,
     r"cell must be an rnnlab cell object .* such as RNNCell\(D, H\).* got 'lstm'"),
    ("a size, not a cell", lambda: SequenceModel(H, O), TypeError,
     "cell must be an rnnlab cell object .* got int"),
    ("a Linear, not a cell", lambda: SequenceModel(nn.Linear(D, H), O), TypeError,
     "cell must be an rnnlab cell object .* got Linear"),
    ("make_cell('transformer')", lambda: make_cell("transformer", D, H), ValueError,
     "kind must be one of"),
    ("make_cell(RNNCell)", lambda: make_cell(RNNCell, D, H), ValueError,
     "kind must be one of"),
    ("make_cell hidden_size=0", lambda: make_cell("rnn", D, 0), ValueError,
     "hidden_size must be >= 1"),
    ("make_rnn('transformer')", lambda: make_rnn("transformer", 3, 5), ValueError,
     "cell must be one of"),
    ("make_rnn(nn.LSTM)", lambda: make_rnn(nn.LSTM, 3, 5), ValueError, "cell must be one of"),
    ("make_rnn hidden_size=0", lambda: make_rnn("gru", 3, 0), ValueError,
     "hidden_size"),                             # PyTorch's message
    ("make_rnn gru with nonlinearity", lambda: make_rnn("gru", 3, 5, nonlinearity="relu"),
     ValueError, "applies to cell='rnn'"),
]


def test_model_and_factories_reject_bad_arguments(subtests):
    for row, call, exc, match in BAD_ARGUMENTS:
        with subtests.test(row):
            with pytest.raises(exc, match=match):
                call()


def test_make_rnn_builds_batch_first_torch_layers(subtests):
    for kind, cls in [("rnn", nn.RNN), ("lstm", nn.LSTM), ("gru", nn.GRU)]:
        with subtests.test(kind=kind):
            layer = make_rnn(kind, 3, 5, num_layers=2)
            assert type(layer) is cls and layer.batch_first and layer.num_layers == 2
            assert layer(torch.zeros(4, 7, 3))[0].shape == (4, 7, 5)
    assert make_rnn("rnn", 3, 5, nonlinearity="relu").nonlinearity == "relu"


def test_a_fresh_interpreter_builds_every_kind_after_importing_models_alone():
    """No registration at import: importing rnnlab.models (and nothing else first) is enough
    to build each of the five cell kinds, in a new Python process."""
    import subprocess
    import sys

    code = ("from rnnlab.models import CELLS, make_cell\n"
            "print(' '.join(f'{k}:{type(make_cell(k, 3, 4)).__name__}' for k in sorted(CELLS)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["gru:GRUCell", "lstm:LSTMCell", "rnn:RNNCell",
                                   "rnn_bn:BatchNormRNNCell", "rnn_ln:LayerNormRNNCell"]


def test_the_package_has_no_import_cycle():
    """The modules of rnnlab import each other as the chapters go, never in a circle (read from
    their import statements, relative and absolute)."""
    import ast
    from pathlib import Path

    import rnnlab

    root = Path(rnnlab.__file__).parent
    graph = {}
    for path in root.glob("*.py"):
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                deps |= {node.module.split(".")[0]} if node.module else \
                    {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rnnlab."):
                deps.add(node.module.split(".")[1])
        graph[path.stem] = deps & {p.stem for p in root.glob("*.py")} - {path.stem}
    assert graph["cells"] and "models" in graph["fused"], "the import graph was not read"
    done, visiting = set(), []

    def visit(module):
        assert module not in visiting, f"import cycle: {' -> '.join(visiting + [module])}"
        if module in done:
            return
        visiting.append(module)
        for dep in sorted(graph[module]):
            visit(dep)
        visiting.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)

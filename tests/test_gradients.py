"""rnnlab.gradients against brute-force autograd on small random models."""
import pytest
import torch
from torch import nn

from rnnlab import cells, gradients, models


def _rnn(D=3, H=4, nonlinearity="tanh", seed=0):
    torch.manual_seed(seed)
    return cells.RNNCell(D, H, nonlinearity=nonlinearity).double()


class TupleCell(nn.Module):
    """A small cell with a tuple state (h, c), shaped like an LSTM, for the generic code paths."""

    def __init__(self, D, H):
        super().__init__()
        self.input_size, self.hidden_size = D, H
        self.A = nn.Linear(D + H, H)
        self.B = nn.Linear(D + H, H)

    def init_state(self, B, device=None, dtype=None):
        z = torch.zeros(B, self.hidden_size, device=device, dtype=dtype or self.A.weight.dtype)
        return (z, z.clone())

    @staticmethod
    def hidden(state):
        return state[0]

    def forward(self, x_t, state):
        h, c = state
        u = torch.cat([x_t, h], dim=1)
        c = torch.sigmoid(self.B(u)) * c + torch.tanh(self.A(u))
        return (torch.tanh(c) * torch.sigmoid(self.B(u)), c)


def _unroll_from(cell, x, state):
    for t in range(x.shape[1]):
        state = cell(x[:, t], state)
    return state


def _brute_hidden_grads(cell, x, loss_fn):
    """dL/dh_t by perturbing h_t directly: restart the unroll from step t with h_t as input."""
    B, T, _ = x.shape
    out = []
    state = cell.init_state(B, dtype=x.dtype)
    states = []
    for t in range(T):
        state = cell(x[:, t], state)
        states.append(state)
    for t in range(T):
        s = states[t]
        h_t = cell.hidden(s).detach()

        def f(h, t=t, s=s):
            if isinstance(s, tuple):
                st = (h,) + tuple(p.detach() for p in s[1:])
            else:
                st = h
            final = _unroll_from(cell, x[:, t + 1:], st)
            return loss_fn(cell.hidden(final))
        out.append(torch.autograd.functional.jacobian(f, h_t))
    return torch.stack(out, dim=1)


def test_hidden_grads_match_brute_force(subtests):
    loss_fn = lambda h: (h ** 2).sum() + h[:, 0].sum()  # noqa: E731
    for nonlinearity in ("tanh", "relu", "sigmoid"):
        with subtests.test(nonlinearity=nonlinearity):
            cell = _rnn(nonlinearity=nonlinearity)
            x = torch.randn(2, 7, 3, dtype=torch.double,
                            generator=torch.Generator().manual_seed(1))
            got = gradients.hidden_grads(cell, x, loss_fn=loss_fn)
            want = _brute_hidden_grads(cell, x, loss_fn)
            assert got.shape == (2, 7, 4)
            torch.testing.assert_close(got, want)


def test_hidden_grads_tuple_state_match_brute_force():
    torch.manual_seed(3)
    cell = TupleCell(2, 3).double()
    x = torch.randn(2, 5, 2, dtype=torch.double)
    got = gradients.hidden_grads(cell, x)
    want = _brute_hidden_grads(cell, x, lambda h: h.sum())
    torch.testing.assert_close(got, want)


def test_norms_are_frobenius_over_batch_and_ratio_is_by_lag():
    cell = _rnn()
    x = torch.randn(3, 6, 3, dtype=torch.double)
    g = gradients.hidden_grads(cell, x)
    norms = gradients.hidden_grad_norms(cell, x)
    assert norms.shape == (6,)
    torch.testing.assert_close(norms, g.pow(2).sum(dim=(0, 2)).sqrt())
    ratio = gradients.grad_ratio_by_lag(cell, x)
    torch.testing.assert_close(ratio, (norms / norms[-1]).flip(0))
    assert ratio[0] == 1.0
    # default loss h_T.sum(): dL/dh_T is all ones
    torch.testing.assert_close(g[:, -1], torch.ones(3, 4, dtype=torch.double))


def test_works_with_frozen_weights_models_and_under_no_grad():
    cell = _rnn()
    for p in cell.parameters():
        p.requires_grad_(False)
    x = torch.randn(2, 4, 3, dtype=torch.double)
    with torch.no_grad():
        norms = gradients.hidden_grad_norms(cell, x)
    assert torch.all(norms > 0)
    model = models.SequenceModel(cells.RNNCell(3, 4), 1).double()
    torch.testing.assert_close(gradients.hidden_grad_norms(model, x),
                               gradients.hidden_grad_norms(model.cell, x))
    assert all(p.grad is None for p in model.parameters())


def test_initial_state_is_used():
    cell = _rnn()
    x = torch.randn(1, 3, 3, dtype=torch.double)
    h0 = torch.full((1, 4), 0.5, dtype=torch.double)
    a = gradients.hidden_grads(cell, x)
    b = gradients.hidden_grads(cell, x, state=h0)
    assert not torch.allclose(a[:, 0], b[:, 0])


JACOBIAN_CELLS = [                  # (label, the cell, built after torch.manual_seed(2))
    ("rnn tanh", lambda: _rnn()),
    ("rnn relu", lambda: _rnn(nonlinearity="relu", seed=5)),
    ("tuple state", lambda: TupleCell(3, 2).double()),
]


def _check_jacobian_product(make):
    torch.manual_seed(2)
    cell = make()
    T = 6
    x = torch.randn(T, 3, dtype=torch.double)
    state = cell.init_state(1, dtype=torch.double)
    if isinstance(state, tuple):
        state = tuple(torch.randn_like(s) * 0.3 for s in state)
    else:
        state = torch.randn_like(state) * 0.3
    P = gradients.jacobian_product(cell, x, state=state)
    parts = state if isinstance(state, tuple) else (state,)
    sizes = [p.shape[1] for p in parts]
    S = sum(sizes)
    assert P.shape == (T + 1, S, S)
    torch.testing.assert_close(P[0], torch.eye(S, dtype=torch.double))
    # trajectory of flattened states
    traj, s = [torch.cat([p.reshape(-1) for p in parts])], state
    for t in range(T):
        s = cell(x[None, t], s)
        traj.append(torch.cat([p.reshape(-1) for p in (s if isinstance(s, tuple) else (s,))]))
    for k in range(T + 1):
        start = T - k

        def f(flat, start=start):
            ps = tuple(q.unsqueeze(0) for q in torch.split(flat, sizes))
            st = ps if isinstance(state, tuple) else ps[0]
            out = _unroll_from(cell, x[None, start:], st)
            return torch.cat([q.reshape(-1) for q in (out if isinstance(out, tuple) else (out,))])
        want = torch.autograd.functional.jacobian(f, traj[start].detach())
        torch.testing.assert_close(P[k], want)


def test_jacobian_product_matches_brute_force(subtests):
    for label, make in JACOBIAN_CELLS:
        with subtests.test(cell=label):
            _check_jacobian_product(make)


def test_vanilla_step_jacobian_is_diag_derivative_times_W_hh():
    cell = _rnn()
    x = torch.randn(1, 4, 3, dtype=torch.double)
    J = gradients.step_jacobians(cell, x)
    h = cell.init_state(1, dtype=torch.double)
    for t in range(4):
        a = cell.preactivation(x[:, t], h)[0]
        want = torch.diag(cells.ACTIVATIONS["tanh"].derivative(a)) @ cell.W_hh
        torch.testing.assert_close(J[t], want.detach())
        h = cell(x[:, t], h)


def test_jacobian_norms_and_consistency_with_hidden_grads():
    cell = _rnn()
    x = torch.randn(1, 5, 3, dtype=torch.double)
    P = gradients.jacobian_product(cell, x)
    n2 = gradients.jacobian_norms(cell, x)
    nf = gradients.jacobian_norms(cell, x, ord="fro")
    torch.testing.assert_close(n2, torch.linalg.matrix_norm(P, ord=2))
    torch.testing.assert_close(nf, torch.linalg.matrix_norm(P, ord="fro"))
    assert torch.all(n2 <= nf + 1e-12)
    # with L = sum(h_T): dL/dh_{T-k} = 1^T ds_T/ds_{T-k}
    g = gradients.hidden_grads(cell, x)[0]            # (T, H)
    ones = torch.ones(4, dtype=torch.double)
    for k in range(5):
        torch.testing.assert_close(g[4 - k], ones @ P[k])


def test_bad_inputs():
    cell = _rnn()
    x = torch.randn(2, 5, 3, dtype=torch.double)
    with pytest.raises(TypeError, match="rnnlab cell"):
        gradients.hidden_grad_norms(nn.Linear(3, 4), x)
    with pytest.raises(TypeError, match="torch.Tensor"):
        gradients.hidden_grad_norms(cell, x.numpy())
    with pytest.raises(ValueError, match="size 3 on axis 2"):
        gradients.hidden_grad_norms(cell, torch.randn(2, 5, 2, dtype=torch.double))
    with pytest.raises(ValueError, match="3 dimensions"):
        gradients.hidden_grad_norms(cell, torch.randn(5, 3, dtype=torch.double))
    with pytest.raises(ValueError, match="one time step"):
        gradients.hidden_grad_norms(cell, torch.randn(2, 0, 3, dtype=torch.double))
    with pytest.raises(TypeError, match="floating"):
        gradients.hidden_grad_norms(cell, torch.ones(2, 5, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="scalar"):
        gradients.hidden_grad_norms(cell, x, loss_fn=lambda h: h)
    with pytest.raises(ValueError, match="state must have size 2 on axis 0"):
        gradients.hidden_grad_norms(cell, x, state=torch.zeros(3, 4, dtype=torch.double))
    with pytest.raises(ValueError, match="zero"):
        gradients.grad_ratio_by_lag(cell, x, loss_fn=lambda h: h.sum() * 0)
    with pytest.raises(ValueError, match="one sequence"):
        gradients.jacobian_product(cell, x)
    with pytest.raises(ValueError, match="ord"):
        gradients.jacobian_norms(cell, x[0], ord="nuc")


def test_hidden_must_return_a_state_tensor():
    class Bad(TupleCell):
        @staticmethod
        def hidden(state):
            return state[0] * 1.0
    cell = Bad(2, 3).double()
    with pytest.raises(ValueError, match="one of the state's tensors"):
        gradients.hidden_grads(cell, torch.randn(1, 3, 2, dtype=torch.double))

"""Tests of ``nn_bridge.data.flat.FlatModel.unflatten`` (one ``torch.split``).

- the pieces are views of ``w`` (no copies) shaped like the module's parameters, in the
  layout's order;
- gradients through it, plain and under ``vmap`` over replicas, equal those of the module's
  own backward pass (computed another way: ``nn.Module`` forward / backward after loading
  ``w``), and are bit for bit those of the former slice-per-tensor version.
"""
import pytest

torch = pytest.importorskip("torch")
from torch.func import grad, vmap  # noqa: E402

from nn_bridge.data.flat import FlatModel  # noqa: E402


def _net():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 3))
    X = torch.randn(11, 5, dtype=torch.float64)
    y = torch.randint(0, 3, (11,))
    return FlatModel(model.double()), X, y


def _sliced(flat, w):
    o = flat.layout.offsets
    return {k: w[o[i]:o[i + 1]].reshape(s)
            for i, (k, s) in enumerate(zip(flat.layout.names, flat.layout.shapes))}


def test_pieces_are_views_in_layout_order():
    flat, _, _ = _net()
    w = torch.arange(flat.n_params, dtype=torch.float64)
    parts = flat.unflatten(w)
    assert list(parts) == list(flat.layout.names)
    for (k, p), s in zip(parts.items(), flat.layout.shapes):
        assert tuple(p.shape) == s and p.data_ptr() >= w.data_ptr()
        assert torch.equal(p, _sliced(flat, w)[k])
    parts["0.bias"][0] = -1.0                            # a view: writes go through to w
    assert w[flat.layout.slice("0.bias")][0] == -1.0


def test_gradients_match_the_module_and_the_sliced_version():
    flat, X, y = _net()
    w0 = flat.flat()
    g = grad(flat.loss)(w0, X, y)
    net = flat.load(w0)                                  # reference: the module's backward
    net.zero_grad()
    flat.loss_fn(net(X), y).backward()
    ref = torch.cat([p.grad.reshape(-1) for p in net.parameters()])
    torch.testing.assert_close(g, ref, rtol=1e-13, atol=1e-15)
    W = w0 + 0.1 * torch.randn(4, flat.n_params, dtype=torch.float64)
    G = vmap(grad(flat.loss), in_dims=(0, None, None))(W, X, y)
    flat.unflatten = lambda w: _sliced(flat, w)          # the former version, same numbers
    G_sliced = vmap(grad(flat.loss), in_dims=(0, None, None))(W, X, y)
    assert torch.equal(G, G_sliced) and torch.equal(g, grad(flat.loss)(w0, X, y))

"""A user adds a model in one file of their own: integration, equilibria and continuation work on it."""
from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest

MODEL_FILE = '''
"""A user's model: the van der Pol oscillator (Hopf at mu = 0)."""
from bifurcate._numba import njit
from bifurcate.model import Euclidean, Model


@njit
def rhs(y, p, out):
    mu = p[0]
    out[0] = y[1]
    out[1] = mu * (1.0 - y[0] * y[0]) * y[1] - y[0]
    return 0


@njit
def jac(y, p, out):
    mu = p[0]
    out[0, 0] = 0.0
    out[0, 1] = 1.0
    out[1, 0] = -2.0 * mu * y[0] * y[1] - 1.0
    out[1, 1] = mu * (1.0 - y[0] * y[0])
    return 0


VDP = Model(name="user_vdp", state_names=("x", "v"), param_names=("mu",), defaults={"mu": 1.0},
            rhs=rhs, jac=jac, geometry=Euclidean(2), module=__name__, attr="VDP")
'''


@pytest.fixture
def user_model(tmp_path, monkeypatch):
    (tmp_path / "my_vdp_model.py").write_text(textwrap.dedent(MODEL_FILE))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("BIFURCATE_CACHE_DIR", str(tmp_path / "cache"))
    import my_vdp_model

    yield my_vdp_model.VDP
    sys.modules.pop("my_vdp_model", None)


def test_user_model_end_to_end(user_model):
    import pickle

    from bifurcate import continue_equilibria, integrate, integrate_ensemble

    tr = integrate(user_model, [0.1, 0.0], (0, 100), {"mu": 1.0})
    assert tr.success
    # the van der Pol limit cycle at mu = 1 has amplitude ~2.0086 (classical value)
    late = tr.y[tr.t > 60, 0]
    assert abs(late.max() - 2.0086) < 2e-3
    ens = integrate_ensemble(user_model, {"mu": [0.5, 1.0]}, n_initial=3, seed=0, t_end=50)
    assert np.all(ens.status == 0)
    b = continue_equilibria(user_model, [0.0, 0.0], param="mu", params={"mu": -0.5}, p_min=-0.5, p_max=0.5)
    (hb,) = b.special("HB")
    assert abs(hb.param) < 1e-8 and abs(hb.data["omega"] - 1.0) < 1e-8
    assert pickle.loads(pickle.dumps(user_model)) is user_model

"""The on-policy deep learners train and evaluate on games far too large to compile.

The issue's list: ``phantom_ttt``, limit ``universal_poker`` and ``dark_hex`` through pyspiel
states (and ``connect_four`` in the learners' own tests). One short run per learner and game:
two updates on a small batch, evaluation by seeded matches against uniform random (the
exploitability is not known without the tree, so it is NaN), the policy saved and loaded back.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("pyspiel")

import gamesolve

GAMES = ["phantom_ttt", "universal_poker(betting=limit)", "dark_hex"]
PPO_SMALL = {"num_envs": 16, "rollout_length": 4, "hidden": [16], "epochs": 1, "minibatches": 1}
SMALL = {
    "ppo": PPO_SMALL,
    "neural-mmd": PPO_SMALL,
    "rnad": {"num_envs": 16, "rollout_length": 4, "hidden": [16]},
    "nfsp": {"num_envs": 16, "hidden": [16], "batch_size": 16, "rl_learn_every": 8, "sl_learn_every": 8},
}


@pytest.mark.parametrize("learner", list(SMALL))
@pytest.mark.parametrize("game", GAMES)
def test_learner_trains_and_evaluates_without_compiling(learner, game, tmp_path):
    result = gamesolve.solve(
        game, learner, iterations=2, eval_every=2, seed=0, progress=False, eval_matches=4, **SMALL[learner]
    )
    assert result.iterations == 2
    assert math.isnan(result.exploitability)
    assert 0.0 <= result.extras["win_rate_vs_uniform"] <= 1.0
    path = result.policy.save(tmp_path / "net.pt")
    loaded = gamesolve.load_policy(path, game=game)
    env = gamesolve.vector_env(game, num_envs=3, seed=1, observation=loaded.observation_kind)
    ts = env.reset()
    actions = loaded.act_batch(ts.observation, ts.legal, np.random.default_rng(0))
    assert actions.shape == (3,) and bool(ts.legal[np.arange(3), actions].all())

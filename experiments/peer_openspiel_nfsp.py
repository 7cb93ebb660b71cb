"""Peer for the deep-learner benchmark: OpenSpiel's torch NFSP on ``leduc_poker``.

Heinrich & Silver 2016, "Deep reinforcement learning from self-play in imperfect-information games",
as implemented by ``open_spiel.python.pytorch.nfsp`` and run the way its ``nfsp_leduc_pytorch``
example runs it: one agent per player, both fed by ``rl_environment`` one episode at a time, with
the example's flags (:data:`SETTINGS`: one hidden layer of 128, replay 200,000, reservoir
2,000,000, learning starts at 1,000 items, anticipatory 0.1, batches of 128, a learning step every
64 agent steps, plain SGD at 0.01 for both networks, MSE loss, target network copied every 19,200
steps, epsilon 0.06 to 0.001 over 20M steps).

:func:`openspiel_nfsp_curve` trains for ``budget`` seconds of algorithm time and, at each mark,
reads out the joint average policy (tabulated over every information state: the cost of having it
in hand, counted) and computes OpenSpiel's own exact exploitability of it (not counted), in the
format of :func:`experiments.bench_deep_learners.openspiel_deep_cfr_curve`. OpenSpiel's modules
import ``tree`` (dm-tree) only for ``map_structure``; the benchmark's minimal stand-in is installed
when dm-tree is missing (given a module spec, which torch's compiler looks up). When OpenSpiel's
NFSP does not import, the curve is a ``skipped`` record with the reason.

Run alone: ``python -m experiments.peer_openspiel_nfsp [BUDGET_SECONDS]``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

#: The flags of OpenSpiel's ``nfsp_leduc_pytorch`` example.
SETTINGS: dict[str, Any] = {
    "hidden_layers_sizes": [128],
    "replay_buffer_capacity": 200_000,
    "reservoir_buffer_capacity": 2_000_000,
    "min_buffer_size_to_learn": 1_000,
    "anticipatory_param": 0.1,
    "batch_size": 128,
    "learn_every": 64,
    "rl_learning_rate": 0.01,
    "sl_learning_rate": 0.01,
    "optimizer_str": "sgd",
    "loss_str": "mse",
    "update_target_network_every": 19_200,
    "discount_factor": 1.0,
    "epsilon_decay_duration": 20_000_000,
    "epsilon_start": 0.06,
    "epsilon_end": 0.001,
}

#: Episodes played between two looks at the clock.
EPISODES_PER_STEP = 100


def openspiel_nfsp_curve(
    budget: float, seed: int, marks: Sequence[float], clock: str = "wall"
) -> dict[str, Any]:
    """OpenSpiel NFSP's exact exploitability on ``leduc_poker`` at each mark of algorithm time.

    Args:
        budget: Seconds of algorithm time (the last mark is normally the budget itself).
        seed: Seeds the agents' networks and numpy's global generator, which OpenSpiel samples from.
        marks: Increasing seconds of algorithm time at which the average policy is evaluated.
        clock: What budget and marks count: ``"wall"`` seconds or this process's ``"cpu"`` seconds.

    Returns:
        ``{"config", "seconds", "cpu_seconds", "algorithm_seconds", "iteration", "exploitability"}``
        (``iteration``: training episodes so far), or ``{"skipped": reason}`` when OpenSpiel's torch
        NFSP does not import.
    """
    from experiments.bench_deep_learners import _run_curve, _tree_stand_in

    _tree_stand_in()
    try:
        import numpy as np
        from open_spiel.python import policy as os_policy
        from open_spiel.python import rl_environment
        from open_spiel.python.algorithms import exploitability as os_exploitability
        from open_spiel.python.pytorch import nfsp
    except Exception as exc:  # report why the peer is missing, do not fail the benchmark
        return {"skipped": f"OpenSpiel's torch NFSP does not import: {type(exc).__name__}: {exc}"}

    env = rl_environment.Environment("leduc_poker", players=2)
    game = env.game
    size = env.observation_spec()["info_state"][0]
    num_actions = env.action_spec()["num_actions"]
    options = {k: v for k, v in SETTINGS.items() if k != "hidden_layers_sizes"}
    agents = [
        nfsp.NFSP(p, size, num_actions, SETTINGS["hidden_layers_sizes"], seed=1000 * seed + 10 * p, **options)
        for p in range(2)
    ]
    np.random.seed(seed)  # noqa: NPY002 - OpenSpiel samples from numpy's global generator

    def average_probabilities(state: Any) -> dict[int, float]:
        """The acting agent's average-network distribution at ``state``, without training."""
        player = state.current_player()
        legal = state.legal_actions(player)
        infos: list[Any] = [None, None]
        infos[player] = state.information_state_tensor(player)
        legals: list[Any] = [None, None]
        legals[player] = legal
        observations = {"info_state": infos, "legal_actions": legals, "current_player": player}
        step = rl_environment.TimeStep(
            observations=observations, rewards=None, discounts=None, step_type=None
        )
        with agents[player].temp_mode_as(nfsp.MODE.AVERAGE_POLICY):
            probs = agents[player].step(step, is_evaluation=True).probs
        return {a: float(probs[a]) for a in legal}

    episodes = 0

    def train() -> None:
        nonlocal episodes
        for _ in range(EPISODES_PER_STEP):
            time_step = env.reset()
            while not time_step.last():
                player = time_step.observations["current_player"]
                output = agents[player].step(time_step)
                time_step = env.step([output.action])
            for agent in agents:  # every agent sees the end of the episode
                agent.step(time_step)
        episodes += EPISODES_PER_STEP

    def step() -> int:
        train()
        return episodes

    def readout() -> Any:
        return os_policy.tabular_policy_from_callable(game, average_probabilities)

    curve = _run_curve(
        "openspiel-nfsp",
        budget,
        step,
        readout,
        lambda table: os_exploitability.exploitability(game, table),
        clock,
        marks=marks,
    )
    return {"config": {**SETTINGS, "episodes_per_step": EPISODES_PER_STEP, "seed": seed}, **curve}


def main(argv: Sequence[str] | None = None) -> None:
    """Run the peer alone for a budget in seconds (default 30), printing its curve."""
    args = list(sys.argv[1:] if argv is None else argv)
    budget = float(args[0]) if args else 30.0
    import torch

    torch.set_num_threads(1)  # as the benchmark runs every learner
    marks = [m for m in (2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 530.0) if m < budget] + [budget]
    result = openspiel_nfsp_curve(budget, 0, marks)
    if "skipped" in result:
        print(result["skipped"])


if __name__ == "__main__":
    main()

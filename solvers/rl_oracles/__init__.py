"""Torch reinforcement-learning best responses (DQN and PPO) against a fixed opponent mixture.

PSRO's RL oracle (Lanctot et al. 2017) and the RL-BR exploitability bound
(:func:`gamesolve.lower_bounds.rl_exploitability_bound`) need an approximate best response of one
player to fixed opponents. These oracles learn one on the single-agent view of a compiled game,
:class:`gamesolve.rl_env.ResponseEnv` (the learner sees an encoding of its infoset, picks a legal
slot and is paid its terminal utility; each episode draws the opponents from the mixture):

* :class:`DQNOracle`: double DQN (Mnih et al. 2015, "Human-level control through deep reinforcement
  learning"; van Hasselt, Guez & Silver 2016, "Deep reinforcement learning with double
  Q-learning"); the response is the greedy policy.
* :class:`PPOOracle`: PPO with clipped surrogate and GAE (Schulman et al. 2017, "Proximal policy
  optimization algorithms"; Schulman et al. 2016, "High-dimensional continuous control using
  generalized advantage estimation"); the response is the stochastic policy itself.

Against a fixed mixture the learner's infoset is a Markov state (perfect recall), so both learn a
best response in the limit; with a finite budget the exact value of the response is never above the
best-response value. Defaults are tuned for Kuhn- and Leduc-sized games. All randomness comes from
one numpy generator seeded by ``seed`` (bit-identical weights on the CPU); the trained response acts
with a numpy forward pass, so it needs no torch after training and pickles cheaply. The package's
modules: :mod:`~gamesolve.solvers.rl_oracles.response` (the trained response), ``base`` (the shared
options, training frame and torch helpers), ``dqn`` and ``ppo`` (the two learners and their
entry points)::

    trained = dqn_oracle(**config).train(game, player, opponents, weights, seed=0, steps=20_000)
    trained.tabulate()                     # TabularPolicy: the player's rows from the network
    trained.act(player, observation, legal, rng)  # ActingPolicy
    trained.state_arrays()                 # numpy arrays; load_response(arrays, game) restores it

>>> import gamesolve
>>> from gamesolve.solvers.rl_oracles import DQNOracle
>>> game = gamesolve.load_game("kuhn")
>>> trained = DQNOracle().train(game, 0, [gamesolve.uniform_policy(game)], seed=0, steps=2_000)
>>> trained.tabulate().probs.shape
(12, 2)
"""

from gamesolve.solvers.rl_oracles.base import RLOracle, check_widths
from gamesolve.solvers.rl_oracles.dqn import DQNOracle, dqn_oracle
from gamesolve.solvers.rl_oracles.ppo import PPOOracle, ppo_oracle
from gamesolve.solvers.rl_oracles.response import TrainedResponse, load_response, tabulate

__all__ = [
    "DQNOracle",
    "PPOOracle",
    "RLOracle",
    "TrainedResponse",
    "check_widths",
    "dqn_oracle",
    "load_response",
    "ppo_oracle",
    "tabulate",
]

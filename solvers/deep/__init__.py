"""Deep equilibrium learners: networks trained on the batched environment of any game.

:mod:`~gamesolve.solvers.deep.ppo` is self-play PPO (the ``"ppo"`` solver);
:mod:`~gamesolve.solvers.deep.common` holds what the learners share (the prepared game, exact or
head-to-head evaluation, reports). Importing this package does not import torch; building a learner
does.
"""

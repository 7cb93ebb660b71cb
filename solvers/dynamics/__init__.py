"""Learning dynamics for normal-form games, all driven by :func:`gamesolve.solve`.

Every method updates one mixed strategy per player from the payoff gradients ``g_i = u_i(., x_-i)``
(players maximize); each class states which iterate converges and how fast, and
:func:`gamesolve.solve` records that iterate's exact NashConv. Temperatures are in payoff units (the
logit QRE at temperature ``tau`` solves ``x_i = softmax(g_i(x_-i) / tau)``); geometries are
``"entropy"`` (multiplicative updates) and ``"euclidean"`` (projection onto the simplex). One module
per family: ``base`` (the shared solver base and simplex helpers), ``regret``, ``mirror``,
``extragradient``, ``evolutionary``, ``qre`` and ``ne_loss``; this package re-exports their public
names.

* :class:`RegretMatching` [``regret-matching``, ``rm+``]: Hart & Mas-Colell 2000, RM+ (Tammelin
  2014), predictive RM+ (Farina, Kroer & Sandholm 2021); the average converges, ``O(1/sqrt(T))``.
* :class:`MirrorDescent` [``hedge``, ``omd``, ``ftrl``, ``omwu``]: Hedge / OMD / FTRL, optionally
  optimistic (Rakhlin & Sridharan 2013; Syrgkanis et al. 2015): average ``O(1/sqrt(T))``, or
  ``O(1/T)`` optimistic, whose last iterate converges under a unique equilibrium (Wei et al. 2021).
* :class:`ExtraGradient` [``extragradient``, ``mirror-prox``, ``ogda``]: Korpelevich 1976,
  Nemirovski 2004, Popov 1980; average of half-iterates ``O(1/T)``, Euclidean last iterate
  ``O(1/sqrt(T))``, linear on polyhedral bilinear games.
* :class:`AcceleratedOptimisticGradient` [``aog``]: Cai & Zheng 2023; last-iterate gap ``O(1/T)``.
* :class:`MagneticMirrorDescent` [``mmd``]: Sokota et al. 2023; the last iterate converges
  linearly to the logit QRE at temperature ``alpha``.
* :class:`FictitiousPlay` [``fictitious-play``, ``smooth-fp``]: Brown 1951, Robinson 1951; smooth FP
  (Fudenberg & Kreps 1993) converges to the logit QRE (Hofbauer & Sandholm 2002).
* :class:`Replicator` [``replicator``, ``projected-replicator``]: Taylor & Jonker 1978, the projected
  variant of PSRO (Lanctot et al. 2017); the time average converges in 2p0s games with an
  interior equilibrium.
* :class:`LogitQRE` [``qre``]: McKelvey & Palfrey 1995, by regularized extragradient (Cen, Wei & Chi
  2021), homotopy (Turocy 2005) or damped fixed-point iteration.
* :class:`NashLossSGD` [``ne-loss-sgd``]: Gemp, Marris & Piliouras 2024, SGD on a loss whose zeros
  are the QREs.
* :class:`InternalRegret` [``internal-regret``]: Hart & Mas-Colell 2000, Blum & Mansour 2007; the
  empirical joint play converges to the correlated equilibria.
"""

from gamesolve.solvers.dynamics.base import payoff_gradients, project_simplex
from gamesolve.solvers.dynamics.evolutionary import FictitiousPlay, Replicator
from gamesolve.solvers.dynamics.extragradient import AcceleratedOptimisticGradient, ExtraGradient
from gamesolve.solvers.dynamics.mirror import MagneticMirrorDescent, MirrorDescent
from gamesolve.solvers.dynamics.ne_loss import (
    NashLossSGD,
    ne_loss,
    ne_loss_estimate,
    ne_loss_gradient,
    ne_loss_gradient_estimate,
    ne_loss_samples,
)
from gamesolve.solvers.dynamics.qre import LogitQRE
from gamesolve.solvers.dynamics.regret import InternalRegret, RegretMatching

__all__ = [
    "AcceleratedOptimisticGradient",
    "ExtraGradient",
    "FictitiousPlay",
    "InternalRegret",
    "LogitQRE",
    "MagneticMirrorDescent",
    "MirrorDescent",
    "NashLossSGD",
    "RegretMatching",
    "Replicator",
    "ne_loss",
    "ne_loss_estimate",
    "ne_loss_gradient",
    "ne_loss_gradient_estimate",
    "ne_loss_samples",
    "payoff_gradients",
    "project_simplex",
]

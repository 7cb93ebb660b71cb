"""Contracts of the population backend (gamesolve.population.backend.meta_game_entries).

Oracles: the backend's own exact entries as the target of its sampled estimates (within a few
standard errors, fixed seed); counting calls of the entry evaluators for the "only new entries"
contract; a table and the same table wrapped as an acting policy for the one-sampler contract; a
spy on the backend's member conversion for "tournaments, PSRO and NeuPL (exact and sampled) go
through it".
"""

from __future__ import annotations

import numpy as np
import pytest

import gamesolve
from gamesolve import TabularPolicy
from gamesolve.population import Population, backend, meta_game_entries, sampler
from gamesolve.population.members import TableActor
from gamesolve.tournament import tournament


@pytest.fixture(scope="module")
def kuhn_members(kuhn):
    rng = np.random.default_rng(11)
    return [TabularPolicy.random(kuhn, rng=rng) for _ in range(3)]


def test_exact_entries_equal_the_sampled_estimate_within_a_few_standard_errors(kuhn, kuhn_members):
    population = Population.symmetric(kuhn_members)
    exact = meta_game_entries(kuhn, population)
    sampled = meta_game_entries(kuhn, population, episodes=20_000, seed=2, executor="inprocess")
    assert exact.exact and not sampled.exact and np.all(sampled.counts == 20_000)
    assert np.all(sampled.stderr > 0)
    z = np.abs(sampled.payoffs - exact.payoffs) / sampled.stderr
    assert z.max() < 4.5, z.max()
    for i in range(3):
        for j in range(3):
            profile = kuhn_members[j].with_player(0, kuhn_members[i])
            assert np.allclose(exact.payoffs[:, i, j], gamesolve.expected_values(kuhn, profile), atol=1e-12)


def test_only_new_entries_are_computed_given_previous(kuhn, kuhn_members, monkeypatch):
    small = Population(members=(tuple(kuhn_members[:1]), tuple(kuhn_members[:2])))
    big = small.add(0, kuhn_members[2]).add(1, kuhn_members[2])
    played: list[tuple[int, ...]] = []
    run = sampler.run_task

    def counting(task):
        played.extend(item[0] for item in task.items)
        return run(task)

    monkeypatch.setattr(backend, "run_task", counting)
    prev = meta_game_entries(kuhn, small, episodes=500, seed=1, executor="inprocess")
    assert sorted(played) == [(0, 0), (0, 1)]
    played.clear()
    grown = meta_game_entries(kuhn, big, episodes=500, seed=1, executor="inprocess", previous=prev)
    assert sorted(set(played)) == [(0, 2), (1, 0), (1, 1), (1, 2)]
    full = meta_game_entries(kuhn, big, episodes=500, seed=1, executor="inprocess")
    assert np.array_equal(grown.payoffs, full.payoffs) and np.array_equal(grown.stderr, full.stderr)
    played.clear()
    some = meta_game_entries(kuhn, big, episodes=500, seed=1, executor="inprocess", profiles=[(1, 2)])
    assert set(played) == {(1, 2)} and some.counts.sum() == 500
    assert np.array_equal(some.payoffs[:, 1, 2], full.payoffs[:, 1, 2])  # entries do not depend on the others

    # exact entries: the terminal reach of every member once, and new profiles only
    blocks: list[tuple[slice, ...]] = []
    fill = backend.fill_new_entries

    def spy(previous, sizes, block):
        def counted(slices):
            blocks.append(tuple(slices))
            return block(slices)

        return fill(previous, sizes, counted)

    monkeypatch.setattr(backend, "fill_new_entries", spy)
    exact_prev = meta_game_entries(kuhn, small)
    blocks.clear()
    grown = meta_game_entries(kuhn, big, previous=exact_prev)
    new_cells = sum(int(np.prod([s.stop - s.start for s in b])) for b in blocks)
    assert new_cells == 2 * 3 - 1 * 2
    assert np.allclose(grown.payoffs, meta_game_entries(kuhn, big).payoffs, atol=1e-12)


def test_a_table_and_the_table_as_an_acting_policy_give_the_same_sampled_entries(kuhn, kuhn_members):
    from gamesolve.games.markov import random_markov

    game = random_markov(states=4, actions=2, successors=2, seed=3, discount=0.8)
    rng = np.random.default_rng(5)
    table = rng.dirichlet(np.ones(2), size=4)
    actor = TableActor(table)

    def acting(player, observation, legal, rng):  # the wrapped table, seen only through act()
        return actor.act(player, observation, legal, rng)

    def bot(player, observation, legal, rng):
        return int(rng.integers(0, legal.shape[0]))

    as_table = meta_game_entries(game, Population(members=((table,), (bot,))), episodes=300, seed=4)
    as_actor = meta_game_entries(game, Population(members=((acting,), (bot,))), episodes=300, seed=4)
    assert np.array_equal(as_table.payoffs, as_actor.payoffs)
    assert np.array_equal(as_table.stderr, as_actor.stderr)
    # on a compiled game too (acting members see the one-hot of their infoset)
    kuhn_table, kuhn_acting = kuhn_members[0], TableActor(kuhn_members[0])

    def kuhn_actor(player, observation, legal, rng):
        return kuhn_acting.act(player, observation, legal, rng)

    as_table = meta_game_entries(kuhn, Population(members=((kuhn_table,), (bot,))), episodes=300, seed=4)
    as_actor = meta_game_entries(kuhn, Population(members=((kuhn_actor,), (bot,))), episodes=300, seed=4)
    assert np.array_equal(as_table.payoffs, as_actor.payoffs) and as_table.counts[0, 0] == 300
    # a wrapped table (it tabulates itself) is evaluated as the table, exactly and sampled
    tables = Population.symmetric(kuhn_members[:2])
    wrapped = Population.symmetric([TableActor(m) for m in kuhn_members[:2]])
    assert np.array_equal(meta_game_entries(kuhn, tables).payoffs, meta_game_entries(kuhn, wrapped).payoffs)
    a = meta_game_entries(kuhn, tables, episodes=700, seed=9, executor="inprocess")
    b = meta_game_entries(kuhn, wrapped, episodes=700, seed=9, executor="inprocess")
    assert np.array_equal(a.payoffs, b.payoffs)


def _spy_on_the_backend(monkeypatch):
    calls: list[int] = []
    prepare = backend.prepare_members

    def spy(kind, game, population, **options):
        calls.append(population.num_players)
        return prepare(kind, game, population, **options)

    monkeypatch.setattr(backend, "prepare_members", spy)
    return calls


def test_tournament_psro_and_neupl_get_their_meta_games_from_the_backend(kuhn, kuhn_members, monkeypatch):
    calls = _spy_on_the_backend(monkeypatch)
    tournament(kuhn, kuhn_members)
    assert calls, "tournament did not use the backend"
    calls.clear()
    gamesolve.solve(kuhn, "psro", iterations=2, progress=False)
    assert len(calls) >= 2, "PSRO did not use the backend"
    calls.clear()
    gamesolve.solve(kuhn, "psro", iterations=2, progress=False, episodes=200)
    assert len(calls) >= 2, "sampled PSRO did not use the backend"
    calls.clear()
    from gamesolve.solvers.neupl import NeuPL

    gamesolve.solve(kuhn, NeuPL(policy="tabular", max_population=3), iterations=2, progress=False)
    assert len(calls) >= 2, "NeuPL did not use the backend"
    calls.clear()
    solver = NeuPL(policy="tabular", max_population=3, meta_episodes=40)
    gamesolve.solve(kuhn, solver, iterations=2, seed=0, progress=False)
    assert len(calls) >= 2, "NeuPL's sampled meta-game did not use the backend"

"""Result figures: what they draw is the Dataset's data, and they stay small for large shot counts."""

from __future__ import annotations

import json

import numpy as np
import pytest

import workbench
from workbench.results.dataset import json_attr
from workbench.views import result_figures as rf


@pytest.fixture(scope="module")
def rabi_result():
    return workbench.run("rabi", device="qutip-1q", shots=300, seed=4)


@pytest.fixture(scope="module")
def bell_result():
    return workbench.run("bell", device="qutip-2q", shots=400, seed=8)


def test_counts_figure_has_the_counts(bell_result):
    fig = rf.counts_figure(bell_result)
    (bars,) = fig.data
    assert dict(zip(bars.x, (int(v) for v in bars.y), strict=True)) == bell_result.counts()
    assert fig.layout.xaxis.type == "category"  # '01' stays a string, never the number 1


def test_distribution_sums_to_one_per_experiment(rabi_result):
    fig = rf.distribution_figure(rabi_result, [0, 10, 20])
    amps = rabi_result.dataset["amp"].values
    assert [t.name for t in fig.data] == [f"amp = {amps[e]:.4g} (rabi-{e:03d})" for e in (0, 10, 20)]  # by swept value
    for trace, e in zip(fig.data, [0, 10, 20], strict=True):
        assert sum(trace.y) == pytest.approx(1.0)
        assert dict(zip(trace.x, trace.y, strict=True)) == pytest.approx(
            {k: rabi_result.distribution(e).get(k, 0.0) for k in trace.x})


def test_grouped_bars_only_for_small_jobs(rabi_result, bell_result):
    assert rf.default_experiments(rabi_result) == [0]  # 21 experiments: the sweep plot says more
    assert rf.default_experiments(bell_result) == [0]
    assert len(rf.counts_figure(rabi_result).data) == 1


def test_rare_outcomes_are_folded_into_one_bar(rabi_result):
    ds = rabi_result.dataset.copy()
    outcomes = [format(i, "07b") for i in range(100)]
    table = np.zeros((ds.sizes["experiment"], 100), dtype=np.int64)
    table[:, :] = np.arange(1, 101)
    ds = ds.drop_vars(["counts", "outcome"]).assign(counts=(("experiment", "outcome"), table))
    ds = ds.assign_coords(outcome=outcomes)
    (bars,) = rf.counts_figure(ds, [0]).data
    assert len(bars.x) == rf.MAX_OUTCOMES and bars.x[-1] == "other (37)"
    assert sum(bars.y) == table[0].sum()  # nothing lost, only folded
    assert bars.y[-1] == sum(range(1, 38))


def test_counts_and_probability_are_one_figure_with_a_toggle(rabi_result):
    fig = rf.outcomes_figure(rabi_result, [0, 10, 20])
    counts, probability = fig.data[:3], fig.data[3:]
    reference = rf.counts_figure(rabi_result, [0, 10, 20]).data
    for trace, bars in zip(counts, reference, strict=True):
        assert (trace.name, list(trace.x), list(trace.y)) == (bars.name, list(bars.x), list(bars.y))
        assert trace.visible is None  # shown
    for trace, e in zip(probability, [0, 10, 20], strict=True):
        assert trace.visible is False and trace.name.endswith(f"(rabi-{e:03d})")  # swept value, then the name
        assert sum(trace.y) == pytest.approx(1.0)
    (menu,) = fig.layout.updatemenus
    shown = {b.label: b.args[0]["visible"] for b in menu.buttons}
    assert shown == {"Counts": [True] * 3 + [False] * 3, "Probability": [False] * 3 + [True] * 3}
    assert menu.buttons[1].args[1]["yaxis.range"] == [0, 1.05] and menu.active == 0
    assert rf.outcomes_figure(workbench.run("x-gate", shots=10, seed=1, options={"meas_level": 1})) is None


def test_the_readout_centres_are_drawn_over_the_shots(rabi_result):
    """WebGL is painted over SVG: the centres are WebGL traces after the shots, and their labels annotations."""
    fig = rf.iq_figure(rabi_result, 20)  # 2x the pi amplitude: a cloud around |0>, and |1> must stay visible
    names = [t.name for t in fig.data]
    centres = fig.data[names.index("readout centres")]
    assert centres.type == "scattergl" and names.index("readout centres") > max(
        i for i, n in enumerate(names) if n.startswith("state"))
    assert centres.marker.line.color == "white"
    labels = {a.text for a in fig.layout.annotations}
    assert {"<b>|0></b>", "<b>|1></b>"} <= labels
    expected = json_attr(rabi_result.dataset, "device_config")["qubits"][0]["readout"]["iq_centers"]
    assert sorted(zip(centres.x, centres.y, strict=True)) == sorted(tuple(v) for v in expected.values())


def test_iq_points_are_coloured_by_the_assigned_state(rabi_result):
    e = 5  # half the pi amplitude: both states present
    fig = rf.iq_figure(rabi_result, e)
    names = [t.name for t in fig.data]
    assert names[:2] == ["state 0", "state 1"] and "discriminator" in names and "readout centres" in names
    disc = json_attr(rabi_result.dataset, "device_config")["qubits"][0]["readout"]["discriminator"]
    (w_i, w_q), offset = disc["weights"], disc["offset"]
    for trace, sign in ((fig.data[0], -1), (fig.data[1], 1)):
        score = w_i * np.asarray(trace.x) + w_q * np.asarray(trace.y) + offset
        assert np.all(np.sign(score) == sign) or (sign == -1 and np.all(score <= 0))
    memory = rabi_result.dataset["memory"].values[e, :, 0]
    assert len(fig.data[0].x) == np.count_nonzero(memory == 0) and len(fig.data[1].x) == np.count_nonzero(memory)
    boundary = fig.data[names.index("discriminator")]
    for i, q in zip(boundary.x, boundary.y, strict=True):
        assert w_i * i + w_q * q + offset == pytest.approx(0.0, abs=1e-9)


def test_iq_scatter_is_sampled_for_large_shot_counts():
    result = workbench.run("x-gate", device="qutip-1q", shots=60_000, seed=2)
    fig = rf.iq_figure(result)
    shots = sum(len(t.x) for t in fig.data if t.name.startswith("state"))
    assert shots == rf.MAX_IQ_POINTS and "5000 of 60000 shots shown" in fig.layout.title.text
    again = rf.iq_figure(result)  # a fixed-seed sample: the same result draws the same picture
    assert np.array_equal(np.asarray(fig.data[0].x), np.asarray(again.data[0].x))
    small = rf.iq_figure(result, max_points=100)
    assert sum(len(t.x) for t in small.data if t.name.startswith("state")) == 100


def test_iq_of_averaged_results_shows_one_point_per_experiment():
    result = workbench.run("t1", device="qutip-1q", shots=50, seed=1, options={"meas_level": 1, "meas_return": "avg"})
    fig = rf.iq_figure(result)
    assert fig.data[0].name == "experiments" and len(fig.data[0].x) == 16
    assert rf.counts_figure(result) is None


def test_sweep_plot_follows_the_varying_coordinate(rabi_result):
    assert rf.sweep_coordinate(rabi_result) == "amp"
    fig = rf.sweep_figure(rabi_result)
    p1 = fig.data[0]
    expected = rabi_result.dataset["memory"].values[:, :, 0].mean(axis=1)
    assert np.allclose(np.asarray(p1.y), expected)
    assert np.allclose(np.asarray(p1.x), rabi_result.dataset["amp"].values)
    exact = next(t for t in fig.data if t.name.startswith("population |1>"))
    assert max(exact.y) > 0.9 and exact.y[0] < 0.01  # the pi pulse sits in the middle of the sweep


def test_sweep_over_time_in_microseconds_and_constant_coordinates_ignored():
    result = workbench.run("ramsey", device="qutip-1q", shots=50, seed=3)
    assert {"delay", "detuning"} <= set(result.dataset.coords)
    assert rf.sweep_coordinate(result) == "delay"  # detuning is the same everywhere
    fig = rf.sweep_figure(result)
    assert fig.layout.xaxis.title.text == "delay (us)"
    assert max(fig.data[0].x) == pytest.approx(result.dataset["delay"].values.max() * 1e6)


def test_no_sweep_for_a_single_experiment(bell_result):
    assert rf.sweep_coordinate(bell_result) is None and rf.sweep_figure(bell_result) is None


def test_boundary_segment_clips_to_the_box():
    assert rf.boundary_segment((1.0, 0.0), -0.5, (0, 1), (0, 2)) == ([0.5, 0.5], [0.0, 2.0])  # vertical
    assert rf.boundary_segment((1.0, 1.0), -1.0, (0, 1), (0, 1)) == ([0.0, 1.0], [1.0, 0.0])
    assert rf.boundary_segment((1.0, 0.0), -5.0, (0, 1), (0, 1)) is None  # misses the box


# ----------------------------------------------------------------------------- sweeps and analyses


def test_the_sweep_leads_with_the_fit_when_the_result_holds_one(rabi_result):
    result = workbench.Result(rabi_result.dataset.copy())
    analysis = result.analyse()
    fig = rf.sweep_figure(result)
    data, fit = fig.data[0], fig.data[1]
    assert (data.name, fit.name) == ("rabi", "rabi fit")
    assert np.allclose(np.asarray(data.y), result.dataset["memory"].values[:, :, 0].mean(axis=1))
    assert np.allclose(np.asarray(data.error_y.array), analysis.series[0].signal_err)
    pi = analysis.parameters["pi_amplitude"].value
    assert fig.layout.shapes[0].x0 == pytest.approx(pi)  # the dashed line at the pi amplitude
    assert max(fit.y) == pytest.approx(float(np.asarray(fit.y)[np.argmin(abs(np.asarray(fit.x) - pi))]), abs=1e-3)
    assert "exact" in fig.data[2].name  # the simulator's populations, dotted, on the same axis


def test_integrated_iq_is_shown_as_its_projection_not_raw_i_and_q():
    result = workbench.run("rabi", device="qutip-1q", shots=100, seed=6, options={"meas_level": 1})
    fig = rf.sweep_figure(result)
    assert fig.layout.yaxis.title.text == "IQ projected on the states' axis (a.u.)"
    projection = np.asarray(fig.data[0].y)
    assert projection[0] < 0 < projection[10]  # amplitude 0 (|0>) low, the pi amplitude (|1>) high


def test_two_swept_parameters_draw_a_map_with_the_fitted_cz_line():
    from pathlib import Path

    result = workbench.load_result(Path(__file__).parent / "data" / "analysis" / "chevron.nc")
    plain = rf.sweep_figure(result)
    (heatmap,) = plain.data
    assert heatmap.type == "heatmap" and np.asarray(heatmap.z).shape == (6, 5)  # amplitudes x widths
    memory = result.dataset["memory"].values
    p11 = ((memory[:, :, 0] == 1) & (memory[:, :, 1] == 1)).mean(axis=1)
    assert np.nanmax(heatmap.z) == pytest.approx(p11.max()) and plain.layout.title.text == "P(11) over width and amp"
    result.analyse()
    fitted = rf.sweep_figure(result)
    assert [t.type for t in fitted.data] == ["heatmap", "scatter"] and fitted.data[1].name == "one full cycle (CZ)"
    assert fitted.layout.title.text.startswith("CZ chevron: swap frequency per unit amplitude")


def test_a_curve_per_value_when_one_of_two_parameters_takes_few_values():
    from pathlib import Path

    result = workbench.load_result(Path(__file__).parent / "data" / "analysis" / "resonator-spectroscopy.nc")
    fig = rf.sweep_figure(result)
    assert [t.name for t in fig.data] == ["IQ projected on the states' axis (a.u.) slot 0, prepared = 0",
                                          "IQ projected on the states' axis (a.u.) slot 0, prepared = 1"]
    assert fig.layout.xaxis.title.text == "frequency (GHz)"


def test_plain_figures_are_the_validated_figures_as_dicts(rabi_result, bell_result):
    """The report embeds the plain dicts without plotly.py; they must be what the widgets validate and show."""
    import plotly.graph_objects as go

    from workbench.analysis import analyse
    from workbench.views.plotly_json import figure_json

    fitted = analyse(rabi_result)
    cases = [(rf.counts_figure, (bell_result,)), (rf.distribution_figure, (rabi_result,)),
             (rf.iq_figure, (rabi_result, 10)), (rf.sweep_figure, (rabi_result,)),
             (rf.sweep_figure, (rabi_result, fitted))]
    for make, args in cases:
        plain, validated = make(*args, plain=True), make(*args)
        assert isinstance(plain, dict) and plain["layout"]["template"] == "plotly_white"
        go.Figure(plain)  # plotly.py accepts every property (raises on a misspelt one)
        assert json.loads(figure_json(plain)) == json.loads(figure_json(validated)), make.__name__

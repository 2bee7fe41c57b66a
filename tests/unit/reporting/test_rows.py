"""The long results table's rows: clock measurements are routed out of the main table."""

from wgf.reporting.rows import is_timing, split_timing


def test_clock_timings_are_routed_out_of_the_main_table():
    names = ["mmd_median", "w2", "target_evaluations", "train_wall_s", "samples_per_s"]
    names += ["time_per_step_s", "mala_wall_s", "fit_cpu_s", "log_z_ess"]
    rows = [{"metric": m, "value": "1.0"} for m in names]
    results, timings = split_timing(rows)
    assert [r["metric"] for r in results] == ["mmd_median", "w2", "target_evaluations", "log_z_ess"]
    assert all(is_timing(r["metric"]) for r in timings) and len(timings) == 5


def test_quality_metric_falls_back_to_the_ksd_only_for_a_quality_metric():
    from wgf.reporting.rows import quality_metric

    assert quality_metric(["mmd_median", "ksd"]) == "mmd_median"
    assert quality_metric(["ksd", "mean_energy"]) == "ksd"
    assert quality_metric(["mean_energy"]) == "mmd_median"
    assert quality_metric(["mmd_median"], "w2") == "w2"

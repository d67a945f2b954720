//! `--stats` and `--stats-json`: the job's counters, for people and for
//! programs.

use std::io::{self, Write};
use std::path::Path;
use std::time::Duration;

use mr_local::Counters;

use crate::args::ReportArgs;
use crate::Failure;

/// What the CLI knows of the run beyond the library's counters.
pub(crate) struct Timings {
    /// Threads of the job's pool.
    pub threads: usize,
    /// Sorting and writing the results.
    pub write: Duration,
    /// The whole command.
    pub total: Duration,
}

/// Prints and writes the counters as `args` asks.
pub(crate) fn report(
    args: &ReportArgs,
    counters: &Counters,
    timings: &Timings,
) -> Result<(), Failure> {
    if args.stats && !args.quiet {
        // A failure to write to stderr has nowhere to be reported.
        let _ = io::stderr()
            .lock()
            .write_all(text(counters, timings).as_bytes());
    }
    if let Some(path) = &args.stats_json {
        // `-` is stdout, which the checks left free of the data.
        let file = (path != Path::new("-")).then_some(path.as_path());
        crate::write_output(file, |out| {
            out.write_all(json(counters, timings).as_bytes())
        })?;
    }
    Ok(())
}

fn rows(counters: &Counters) -> [(&'static str, u64); 15] {
    [
        ("input files", counters.input_files),
        ("input bytes", counters.input_bytes),
        ("compressed bytes", counters.compressed_bytes),
        ("records", counters.records),
        ("map output records", counters.map_output_records),
        ("combine output records", counters.combine_output_records),
        ("distinct keys", counters.distinct_keys),
        ("reduce output records", counters.reduce_output_records),
        ("splits", counters.splits),
        ("partitions", counters.partitions),
        ("skipped records", counters.skipped_records),
        ("skipped keys", counters.skipped_keys),
        ("spilled records", counters.spilled_records),
        ("spilled bytes", counters.spilled_bytes),
        ("spill runs", counters.spill_runs),
    ]
}

fn text(counters: &Counters, timings: &Timings) -> String {
    let mut out = String::from("mr-local: counters\n");
    out.push_str(&format!("  {:<24}{:>16}\n", "threads", timings.threads));
    for (name, value) in rows(counters) {
        out.push_str(&format!("  {name:<24}{:>16}\n", thousands(value)));
    }
    for (name, value) in &counters.user_counters {
        out.push_str(&format!(
            "  {:<24}{:>16}\n",
            format!("user: {name}"),
            thousands(*value)
        ));
    }
    for skipped in &counters.skipped {
        out.push_str(&format!("  skipped: {skipped}\n"));
    }
    let seconds = timings.total.as_secs_f64();
    let rate = if seconds > 0.0 {
        counters.input_bytes as f64 / seconds / 1e6
    } else {
        0.0
    };
    out.push_str(&format!(
        "  time: map {:.3} s, reduce {:.3} s, sort and write {:.3} s, total {:.3} s ({rate:.0} MB/s)\n",
        counters.map_time.as_secs_f64(),
        counters.reduce_time.as_secs_f64(),
        timings.write.as_secs_f64(),
        seconds,
    ));
    out
}

fn json(counters: &Counters, timings: &Timings) -> String {
    let mut fields: Vec<String> = vec![format!("\"threads\":{}", timings.threads)];
    fields.extend(
        rows(counters)
            .iter()
            .map(|(name, value)| format!("\"{}\":{value}", name.replace(' ', "_"))),
    );
    for (name, seconds) in [
        ("map_seconds", counters.map_time),
        ("reduce_seconds", counters.reduce_time),
        ("write_seconds", timings.write),
        ("total_seconds", timings.total),
    ] {
        fields.push(format!("\"{name}\":{:.6}", seconds.as_secs_f64()));
    }
    let user: Vec<String> = counters
        .user_counters
        .iter()
        .map(|(name, value)| format!("{}:{value}", json_string(name)))
        .collect();
    fields.push(format!("\"user_counters\":{{{}}}", user.join(",")));
    let skipped: Vec<String> = counters
        .skipped
        .iter()
        .map(|skipped| json_string(&skipped.to_string()))
        .collect();
    fields.push(format!("\"skipped\":[{}]", skipped.join(",")));
    format!("{{{}}}\n", fields.join(","))
}

fn json_string(text: &str) -> String {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = mr_local::output::write_json_string(&mut out, text.as_bytes());
    String::from_utf8_lossy(&out).into_owned()
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_string("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
    }
}

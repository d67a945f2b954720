//! Spilling: with a tiny memory budget every run gives exactly what the
//! in-memory path gives, for every job shape and shuffle strategy; a run
//! damaged on disk, or a spill directory that goes away, fails the job with
//! a clear error and leaves nothing behind.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use mr_local::jobs::invert::{invert, Invert};
use mr_local::jobs::sort::sort_lines;
use mr_local::jobs::wordcount::{count_words, WordCount};
use mr_local::{Emit, Inputs, Job, JobBuilder, Phase, ShuffleStrategy};
use proptest::prelude::*;

use crate::util::Dir;

fn builder(
    threads: usize,
    partitions: usize,
    split: usize,
    strategy: ShuffleStrategy,
) -> JobBuilder {
    let mut builder = Job::builder();
    builder
        .threads(threads)
        .partitions(partitions)
        .split_size(split)
        .shuffle(strategy.batch(2).capacity(1));
    builder
}

fn inputs(files: &[Vec<u8>]) -> Inputs {
    let mut inputs = Inputs::new();
    for (i, file) in files.iter().enumerate() {
        inputs.push_bytes(format!("f{i}"), file.clone());
    }
    inputs
}

fn lines() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec("[a-e]{0,3}( [a-e]{1,3})?", 0..120)
        .prop_map(|lines| lines.join("\n").into_bytes())
}

type Folded = Vec<(String, u64)>;
type Grouped = Vec<(String, Vec<u32>)>;

/// Counts lines with `fold`, and lists the positions of each first word
/// with `reduce`, sorted, with and without spilling.
fn both(job: &Job, inputs: &Inputs, spill: bool) -> (Folded, Grouped, u64) {
    let map = |line: &[u8], out: &mut Emit<String, u64>| {
        out.emit(String::from_utf8(line.to_vec())?, 1);
        Ok(())
    };
    let spec = job.map(inputs, map);
    let folded = if spill { spec.spill() } else { spec }
        .fold(|a, b| *a += b)
        .unwrap();
    let spilled = folded.counters().spilled_records;
    let mut folded = folded.into_vec();
    folded.sort();
    let map = |line: &[u8], out: &mut Emit<String, Vec<u32>>| {
        let word = line.split(|b| *b == b' ').next().unwrap_or_default();
        out.emit(String::from_utf8(word.to_vec())?, vec![line.len() as u32]);
        Ok(())
    };
    let spec = job.map(inputs, map).combine(|a, b| a.extend(b));
    let spec = if spill { spec.spill() } else { spec };
    let grouped = spec
        .reduce(|_, lists| {
            let mut all: Vec<u32> = lists.concat();
            all.sort();
            all
        })
        .unwrap();
    let spilled = spilled + grouped.counters().spilled_records;
    let mut grouped = grouped.into_vec();
    grouped.sort();
    (folded, grouped, spilled)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn a_tiny_budget_gives_the_in_memory_answer(
        files in prop::collection::vec(lines(), 1..3),
        threads in 1usize..4,
        partitions in 1usize..9,
        split in 1usize..200,
        budget in 0usize..2000,
    ) {
        let inputs = inputs(&files);
        for strategy in ShuffleStrategy::all() {
            let plain = builder(threads, partitions, split, strategy).build().unwrap();
            let tiny = builder(threads, partitions, split, strategy).memory(budget).build().unwrap();
            let (folded, grouped, _) = both(&plain, &inputs, false);
            let (spilled_folded, spilled_grouped, _) = both(&tiny, &inputs, true);
            prop_assert_eq!(&folded, &spilled_folded, "{}", strategy.name());
            prop_assert_eq!(&grouped, &spilled_grouped, "{}", strategy.name());
        }
    }
}

/// The built-in jobs, on a real corpus, with a 1 MB budget: the same
/// answers, empty partitions and all.
#[test]
fn built_in_jobs_agree_when_spilling() {
    let Some(data) = crate::util::datasets() else {
        return;
    };
    let mut inputs = Inputs::new();
    inputs.push_bytes("kjv", crate::util::read(data.join("kjvbible.txt")));
    inputs.push_bytes(
        "world",
        crate::util::read(data.join("canterbury-world192.txt")),
    );
    for strategy in [
        ShuffleStrategy::lockfree(),
        ShuffleStrategy::channel(),
        ShuffleStrategy::cond(),
    ] {
        let plain = builder(2, 64, 256 << 10, strategy).build().unwrap();
        let tiny = builder(2, 64, 256 << 10, strategy)
            .memory(1 << 20)
            .build()
            .unwrap();
        let words = WordCount::default();
        let expected = count_words(&plain, &inputs, &words).unwrap();
        let counted = tiny
            .map_with(&inputs, &words)
            .spill()
            .fold(|a, b| *a += b)
            .unwrap();
        assert!(counted.counters().spilled_records > 0, "nothing spilled");
        let mut got = counted.into_vec();
        got.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        assert_eq!(expected, got);
        let (expected, _) = invert(&plain, &inputs, &Invert::default()).unwrap();
        let (got, counters) = invert(&tiny, &inputs, &Invert::default()).unwrap();
        assert!(counters.spilled_records > 0);
        assert_eq!(expected, got);
        let (expected, _) = sort_lines(&plain, &inputs).unwrap();
        let (got, counters) = sort_lines(&tiny, &inputs).unwrap();
        assert!(counters.spilled_records > 0);
        assert_eq!(expected, got);
    }
}

#[test]
fn a_single_huge_key_and_many_empty_partitions() {
    let huge = "x".repeat(3 << 20);
    let text = format!("{huge}\na\n{huge}\nb\n{huge}\n");
    let mut inputs = Inputs::new();
    inputs.push_bytes("huge", text);
    let job = builder(2, 16, 1 << 20, ShuffleStrategy::default())
        .memory(1 << 20)
        .build()
        .unwrap();
    // Owned keys: their bytes count against the budget (borrowed ones live
    // in the input and do not).
    let output = job
        .map(&inputs, |line: &[u8], out: &mut Emit<Vec<u8>, u64>| {
            out.emit(line.to_vec(), 1);
            Ok(())
        })
        .spill()
        .sorted()
        .fold(|a, b| *a += b)
        .unwrap();
    assert!(output.counters().spilled_records > 0);
    assert!(output.partitions().iter().filter(|p| p.is_empty()).count() >= 13);
    let mut got: Vec<(usize, u64)> = output
        .into_vec()
        .iter()
        .map(|(line, n)| (line.len(), *n))
        .collect();
    got.sort();
    assert_eq!(got, [(1, 1), (1, 1), (3 << 20, 3)]);
}

/// Files under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

fn spilling_job(tmp: &Path, damage: impl Fn(&Path) + Send + Sync + 'static) -> Job {
    let tmp_dir = tmp.to_path_buf();
    let done = AtomicBool::new(false);
    Job::builder()
        .threads(2)
        .split_size(4096)
        .memory(4096)
        .tmp_dir(tmp)
        .progress(move |p| {
            // Between the map phase and reduce: the runs are all written.
            if p.phase == Phase::Reduce && !done.swap(true, Ordering::SeqCst) {
                damage(&tmp_dir);
            }
        })
        .build()
        .unwrap()
}

fn count_lines(job: &Job, inputs: &Inputs) -> Result<usize, mr_local::Error> {
    job.map(inputs, |line: &[u8], out: &mut Emit<String, u64>| {
        out.emit(String::from_utf8_lossy(line).into_owned(), 1);
        Ok(())
    })
    .spill()
    .fold(|a, b| *a += b)
    .map(|out| out.len())
}

fn numbers() -> Inputs {
    let mut inputs = Inputs::new();
    inputs.push_bytes(
        "numbers",
        (0..20_000)
            .map(|i| format!("{}\n", i % 5000))
            .collect::<String>(),
    );
    inputs
}

#[test]
fn a_flipped_byte_in_a_run_is_a_checksum_error() {
    let dir = Dir::new("spill_flipped");
    let job = spilling_job(dir.path(), |tmp| {
        for run in files_under(tmp) {
            let mut bytes = fs::read(&run).unwrap();
            bytes[20] ^= 0x01;
            fs::write(&run, bytes).unwrap();
        }
    });
    let err = count_lines(&job, &numbers()).unwrap_err().to_string();
    assert!(
        err.contains("corrupt spill run") && err.contains("mr-local-spill-"),
        "{err}"
    );
    assert!(files_under(dir.path()).is_empty(), "runs left behind");
}

#[test]
fn a_truncated_run_is_an_error() {
    let dir = Dir::new("spill_truncated");
    let job = spilling_job(dir.path(), |tmp| {
        for run in files_under(tmp) {
            let len = fs::metadata(&run).unwrap().len();
            fs::OpenOptions::new()
                .write(true)
                .open(&run)
                .unwrap()
                .set_len(len / 2)
                .unwrap();
        }
    });
    let err = count_lines(&job, &numbers()).unwrap_err().to_string();
    assert!(
        err.contains("corrupt spill run") || err.contains("truncated"),
        "{err}"
    );
    assert!(files_under(dir.path()).is_empty(), "runs left behind");
}

#[test]
fn a_spill_directory_that_disappears_is_an_error() {
    let dir = Dir::new("spill_gone");
    let job = spilling_job(dir.path(), |tmp| {
        for entry in fs::read_dir(tmp).unwrap().flatten() {
            fs::remove_dir_all(entry.path()).unwrap();
        }
    });
    let err = count_lines(&job, &numbers()).unwrap_err().to_string();
    assert!(err.contains("no such file or directory"), "{err}");
    // And one that cannot be created at all.
    let job = Job::builder()
        .memory(0)
        .tmp_dir(dir.join("missing"))
        .build()
        .unwrap();
    let err = count_lines(&job, &numbers()).unwrap_err().to_string();
    assert!(
        err.contains("missing") && err.contains("no such file or directory"),
        "{err}"
    );
}

#[test]
fn runs_are_removed_when_the_job_ends() {
    let dir = Dir::new("spill_cleanup");
    let job = spilling_job(dir.path(), |_| {});
    assert_eq!(count_lines(&job, &numbers()).unwrap(), 5000);
    assert!(files_under(dir.path()).is_empty());
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        0,
        "the spill directory is left"
    );
}

/// More runs than a merge reads at once: they are merged in rounds first.
#[test]
fn many_runs_are_merged_in_rounds() {
    let mut inputs = Inputs::new();
    inputs.push_bytes(
        "n",
        (0..400_000u32)
            .map(|i| format!("{}\n", i * 7 % 300_007))
            .collect::<String>(),
    );
    let count = |job: &Job, spill: bool| {
        let spec = job.map(&inputs, |line: &[u8], out: &mut Emit<Vec<u8>, u32>| {
            out.emit(line.to_vec(), 1);
            Ok(())
        });
        let output = if spill { spec.spill() } else { spec }
            .fold(|a, b| *a += b)
            .unwrap();
        let runs_bytes = output.counters().spill_runs;
        let mut pairs = output.into_vec();
        pairs.sort();
        (pairs, runs_bytes)
    };
    let plain = builder(2, 3, 64 << 10, ShuffleStrategy::default())
        .build()
        .unwrap();
    let tiny = builder(2, 3, 64 << 10, ShuffleStrategy::default())
        .memory(0)
        .build()
        .unwrap();
    let (expected, _) = count(&plain, false);
    let (got, spilled) = count(&tiny, true);
    // 400,000 pairs in runs of at most 4,096: more than 64 runs.
    assert!(spilled > 64, "{spilled} runs");
    assert_eq!(expected, got);
}

/// The CLI's jobs with a 1 MiB budget: the same output as without.
#[test]
fn cli_jobs_spill_and_agree() {
    let Some(data) = crate::util::datasets() else {
        return;
    };
    let dir = Dir::new("cli_spill");
    let files = [data.join("kjvbible.txt"), data.join("silesia-dickens.txt")];
    for command in [&["sort"][..], &["invert"], &["wordcount"], &["sort", "-u"]] {
        let plain = dir.command().args(command).args(&files).output();
        assert!(plain.status.success());
        let spilled = dir
            .command()
            .args(command)
            .args(["--memory", "1M", "--stats-json", "stats.json", "--tmp-dir"])
            .arg(dir.path())
            .args(&files)
            .output();
        assert!(
            spilled.status.success(),
            "{}",
            String::from_utf8_lossy(&spilled.stderr)
        );
        assert!(
            plain.stdout == spilled.stdout,
            "{command:?} differs when spilling"
        );
        let stats = String::from_utf8(dir.read("stats.json")).unwrap();
        assert!(
            !stats.contains("\"spilled_records\":0,"),
            "{command:?} did not spill: {stats}"
        );
        let left: Vec<String> = dir
            .list(".")
            .into_iter()
            .filter(|n| n != "stats.json")
            .collect();
        assert!(left.is_empty(), "{command:?} left {left:?}");
    }
}

/// A spill directory on a full disk: a small tmpfs where this machine lets
/// us mount one (as root), else the test says so and stops.
#[test]
fn a_full_spill_directory_fails_cleanly() {
    let dir = Dir::new("full_tmp");
    let tmp = dir.path().join("tmpfs");
    fs::create_dir(&tmp).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
        .arg(&tmp)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipping: cannot mount a tmpfs here (the library's fault tests still run)");
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(tmp.clone());
    let text: String = (0..200_000)
        .map(|i| format!("line {}\n", i * 7919 % 200_003))
        .collect();
    dir.create("in.txt", text);
    let out = dir
        .command()
        .args([
            "sort",
            "in.txt",
            "--memory",
            "64K",
            "-o",
            "out.txt",
            "--tmp-dir",
        ])
        .arg(&tmp)
        .assert_exit_code(1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no space left on device"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(!dir.join("out.txt").exists(), "a partial output file");
    assert_eq!(
        fs::read_dir(&tmp).unwrap().count(),
        0,
        "spill files left on the tmpfs"
    );
}

//! The README's Hadoop Streaming recipes on a Spark standalone cluster
//! (issue 17): a master and two one-core workers, each a JVM of its own,
//! started by `tests/spark/streaming_cluster.py` on 127.0.0.1, with the
//! binaries shipped to the executors. Each result is compared with the
//! local command's; the event log shows which executors ran which tasks.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::streaming::{bash, drop_cr_before_lf, example, sorted_by_key, spark_python};
use crate::util::{self, read_in_background, Dir, BIN};

/// How long the whole driver may run: it takes about 30 s on two busy cores.
const LIMIT: Duration = Duration::from_secs(300);

/// The driver, `python streaming_cluster.py`, and the processes it started
/// (one PID a line in `pids`): dropped, on a failing test too, it sends
/// the driver SIGTERM (its `finally` blocks stop the cluster), kills it if
/// it has not ended within 30 s, then kills by PID whatever master, worker
/// or `spark-submit` JVM from `pids` is still alive, its descendants first,
/// and any process still working below `out` (an executor whose worker
/// is gone, and its Python workers).
struct Driver {
    child: Child,
    pids: PathBuf,
    out: PathBuf,
}

impl Driver {
    /// Waits for the driver to end, polling with a deadline (the driver's
    /// own waits are bounded too); panics after `limit`, and `drop` cleans up.
    fn wait(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the driver") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the Spark driver still running after {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The processes of `pids` still alive: a PID counts only while its
    /// command line is a Spark launcher's (`org.apache.spark.deploy.…`),
    /// so a PID reused by another process is never killed.
    fn alive_daemons(&self) -> Vec<u32> {
        let pids = std::fs::read_to_string(&self.pids).unwrap_or_default();
        pids.lines()
            .filter_map(|l| l.trim().parse().ok())
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains("org.apache.spark.deploy"))
            })
            .collect()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let pid = self.child.id();
        if matches!(self.child.try_wait(), Ok(None)) {
            kill("-TERM", pid);
            let deadline = Instant::now() + Duration::from_secs(30);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        for daemon in self.alive_daemons() {
            for pid in descendants(daemon).into_iter().chain([daemon]) {
                kill("-KILL", pid);
            }
        }
        for pid in working_in(&self.out) {
            kill("-KILL", pid);
        }
    }
}

/// The processes whose working directory is below `dir`: an executor and
/// its Python workers work in their worker's directory below `out`.
fn working_in(dir: &Path) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| std::fs::read_link(e.path().join("cwd")).is_ok_and(|cwd| cwd.starts_with(dir)))
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect()
}

fn kill(signal: &str, pid: u32) {
    let _ = Command::new("kill")
        .args([signal, &pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

/// `pid`'s descendants, deepest first, from /proc (a worker's executors,
/// and their Python workers).
fn descendants(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(child) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let parent = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1));
        if parent.and_then(|p| p.parse::<u32>().ok()) == Some(pid) {
            found.extend(descendants(child));
            found.push(child);
        }
    }
    found
}

/// The inputs the driver reads from `dir/in` (see the script's docstring).
fn write_inputs(dir: &Dir) -> PathBuf {
    // Spark decodes lines as UTF-8, so the text is the tricky text with its
    // invalid bytes made U+FFFD; the rest is kept: CRLF lines, Unicode
    // spaces, 100 KB words (lines that span input splits), a TAB, no final
    // newline.
    let text = String::from_utf8_lossy(&util::tricky_text()).into_owned();
    dir.create("in/text.txt", &text);
    dir.create(
        "in/records.tsv",
        "a\t1\nb\t2\na\tnot-a-count\nc\t3\na\t4\nb\t5\n",
    );
    dir.create("in/words.txt", "one two\nx a,b y\nthree\n");
    // Named in bytewise order, the order the invert reducer lists files in.
    dir.create("in/invert/a.txt", "The cat sat.\r\nOn the mat");
    dir.create("in/invert/b.txt", &text);
    dir.create("in/invert/c.txt", "");
    dir.create("in/invert/d.txt", "a CAT, a dog\nStraße STRASSE\n");
    dir.join("in")
}

fn assert_same(what: &str, expected: &[u8], got: &[u8]) {
    assert!(
        !expected.is_empty(),
        "{what}: the local command wrote nothing"
    );
    assert!(
        got == expected,
        "{what} on the cluster:\n{}",
        util::describe_mismatch(
            "the local command",
            &String::from_utf8_lossy(expected),
            "Spark",
            &String::from_utf8_lossy(got),
        )
    );
}

// The proof on a cluster of separate processes: one application on
// a standalone master and two one-core workers runs the README's recipes
// with the binaries shipped by `addFile`, at least 4 map and 3 reduce
// partitions, and gives the local commands' output after the README's
// normalisation (reduce partitions merged by key; `file:` before invert's
// file names; a `\r` before `\n` dropped for sort). A mapper that exits 1
// fails the job with its stderr line in the driver's error; a bad record
// is counted, as locally; a map task failed on purpose after its mapper
// ran is rerun without counting twice; both executors, one on each worker,
// ran tasks of every recipe; and no process the test started is left.
mrtest!(
    spark_standalone_cluster_runs_the_readme_recipes,
    |dir: Dir, _: util::TestCommand| {
        let Some(python) = spark_python() else { return };
        let wordlength = example("streaming_wordlength");
        let inputs = write_inputs(&dir);
        let out = dir.create_dir("out");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/spark/streaming_cluster.py");
        let started = Instant::now();
        let mut child = Command::new(&python)
            .arg(&script)
            .args([Path::new(BIN), &wordlength, &inputs, &out])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::inherit())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start python");
        let stderr = read_in_background(child.stderr.take().expect("piped stderr"));
        let mut driver = Driver {
            child,
            pids: out.join("pids"),
            out: out.clone(),
        };
        let status = driver.wait(LIMIT);
        let stderr = stderr.join().expect("stderr reader");
        assert!(
            status.success(),
            "the Spark driver failed: {status}\nstderr (last 12000 bytes):\n{}",
            String::from_utf8_lossy(&stderr[stderr.len().saturating_sub(12000)..])
        );
        eprintln!("spark cluster: the driver ran {:.1?}", started.elapsed());
        assert_eq!(
            driver.alive_daemons(),
            Vec::<u32>::new(),
            "daemons left running"
        );
        assert_eq!(
            working_in(&out),
            Vec::<u32>::new(),
            "executors left running"
        );

        check_recipes(&dir, &inputs, &out, &wordlength);
        check_failures(&dir, &inputs, &out);
        check_tasks(&out);
        check_shipped(&out, &wordlength);
    }
);

/// Each recipe's result against the local command's.
fn check_recipes(dir: &Dir, inputs: &Path, out: &Path, wordlength: &Path) {
    let text = inputs.join("text.txt");
    let got = sorted_by_key(&util::read(out.join("wordcount.tsv")));
    let expected = bash(dir, "\"$MR\" wordcount --sort key \"$1\"", &[&text]);
    assert_same("wordcount", &expected, &got);

    let invert = util::read(out.join("invert.tsv"));
    let invert = String::from_utf8(invert)
        .expect("UTF-8")
        .replace("\tfile:/", "\t/");
    let files: Vec<PathBuf> = ["a.txt", "b.txt", "c.txt", "d.txt"]
        .iter()
        .map(|f| inputs.join("invert").join(f))
        .collect();
    let files: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let expected = bash(dir, "\"$MR\" invert \"$@\"", &files);
    assert_same("invert", &expected, &sorted_by_key(invert.as_bytes()));

    let parts = dir.list(out.join("sort"));
    let part_files = parts.iter().filter(|p| p.starts_with("part-")).count();
    assert_eq!(part_files, 3, "sort's part files: {parts:?}");
    let got = bash(dir, "LC_ALL=C sort -m \"$1\"/part-*", &[&out.join("sort")]);
    let lines = dir.create("hadoop-lines.txt", drop_cr_before_lf(&util::read(&text)));
    let expected = bash(dir, "\"$MR\" sort \"$1\"", &[&lines]);
    assert_same("sort", &expected, &got);

    let got = sorted_by_key(&util::read(out.join("wordlength.tsv")));
    let expected = bash(
        dir,
        "\"$1\" map < \"$2\" 2>/dev/null | LC_ALL=C sort | \"$1\" reduce 2>/dev/null",
        &[wordlength, &text],
    );
    assert_same("streaming_wordlength", &expected, &got);
}

/// A bad record counted as the local reducer counts it; a failing mapper's
/// stderr line in the driver's error.
fn check_failures(dir: &Dir, inputs: &Path, out: &Path) {
    let local = Command::new("bash")
        .arg("-c")
        .arg("LC_ALL=C sort \"$1\" | \"$0\" streaming reduce wordcount")
        .args([Path::new(BIN), &inputs.join("records.tsv")])
        .output()
        .expect("run the local reducer");
    assert!(local.status.success());
    assert_same(
        "a bad record",
        &local.stdout,
        &util::read(out.join("bad-record.tsv")),
    );
    let mut counters: Vec<String> = String::from_utf8_lossy(&local.stderr)
        .lines()
        .filter_map(|l| l.strip_prefix("reporter:counter:mr-local,"))
        .map(|l| l.replacen(',', "\t", 1))
        .collect();
    counters.sort();
    let counters: String = counters.iter().map(|l| format!("{l}\n")).collect();
    assert!(counters.contains("bad records\t1\n"), "{counters}");
    assert_same(
        "the counters",
        counters.as_bytes(),
        &util::read(out.join("bad-record-counters.tsv")),
    );

    let local = Command::new(BIN)
        .args(["streaming", "map", "wordcount", "--split", "whitespace"])
        .args(["--map-output-field-separator", ","])
        .stdin(std::fs::File::open(inputs.join("words.txt")).expect("words.txt"))
        .current_dir(dir.path())
        .output()
        .expect("run the local mapper");
    assert_eq!(local.status.code(), Some(1));
    let line = String::from_utf8_lossy(&local.stderr)
        .lines()
        .find(|l| !l.starts_with("reporter:"))
        .expect("the mapper's error line")
        .to_string();
    assert!(line.starts_with("mr-local: "), "{line}");
    let error = String::from_utf8(util::read(out.join("mapper-failure.txt"))).expect("UTF-8");
    assert!(
        error.contains(&format!("exit status 1: {line}")),
        "the driver's error does not hold the mapper's line {line:?}:\n{error}"
    );
    // pyspark's own rdd.pipe leaves the line in the executor's log.
    let error = String::from_utf8(util::read(out.join("pipe-failure.txt"))).expect("UTF-8");
    assert!(
        error.contains("exited with error code 1") && !error.contains(&line),
        "pyspark's pipe failed otherwise than the README says:\n{error}"
    );
    // As a line of its own: the mapper's, not inside a logged exception.
    let logs = executor_stderr(out);
    assert!(
        logs.lines().any(|l| l == line),
        "no executor's stderr holds the mapper's line {line:?}"
    );
}

/// The executors' stderr logs, `worker-N/app-ID/EXECUTOR/stderr`, joined.
fn executor_stderr(out: &Path) -> String {
    let mut logs = String::new();
    for worker in ["worker-1", "worker-2"] {
        for app in std::fs::read_dir(out.join(worker))
            .into_iter()
            .flatten()
            .flatten()
        {
            for executor in std::fs::read_dir(app.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                let log = std::fs::read(executor.path().join("stderr")).unwrap_or_default();
                logs.push_str(&String::from_utf8_lossy(&log));
            }
        }
    }
    logs
}

/// From the event log: every recipe's tasks ran on both executors, one on
/// each worker, and the map task failed on purpose ran twice.
fn check_tasks(out: &Path) {
    let table = String::from_utf8(util::read(out.join("tasks.tsv"))).expect("UTF-8");
    eprintln!("spark cluster: job, executor, worker, end reason, tasks:\n{table}");
    let rows: Vec<Vec<&str>> = table.lines().map(|l| l.split('\t').collect()).collect();
    assert!(rows.iter().all(|r| r.len() == 5), "{table}");
    for job in ["wordcount", "invert", "sort", "wordlength"] {
        let mut ran: Vec<(&str, &str)> = rows
            .iter()
            .filter(|r| r[0] == job && r[3] == "Success")
            .map(|r| (r[1], r[2]))
            .collect();
        ran.sort();
        ran.dedup();
        let workers: std::collections::BTreeSet<&str> = ran.iter().map(|r| r.1).collect();
        assert!(
            ran.len() == 2 && workers == ["worker-1", "worker-2"].into(),
            "{job}: tasks ran on {ran:?}, not on one executor on each worker:\n{table}"
        );
    }
    let failed: Vec<&Vec<&str>> = rows.iter().filter(|r| r[3] != "Success").collect();
    let failures = |job: &str| {
        failed
            .iter()
            .filter(|r| r[0] == job)
            .map(|r| r[4].parse::<u32>().expect("a count"))
            .sum::<u32>()
    };
    assert_eq!(failures("wordcount"), 1, "{table}");
    assert_eq!(failures("mapper failure"), 2, "{table}");
    assert_eq!(failures("pipe failure"), 2, "{table}");
    let all: u32 = failed
        .iter()
        .map(|r| r[4].parse::<u32>().expect("a count"))
        .sum();
    assert_eq!(all, 5, "{table}");
}

/// `SparkFiles.get` found the binary in each executor's own working
/// directory, below its worker's, on both workers: not at the path given.
fn check_shipped(out: &Path, wordlength: &Path) {
    let shipped = String::from_utf8(util::read(out.join("shipped.tsv"))).expect("UTF-8");
    let mut workers = Vec::new();
    for line in shipped.lines() {
        let (cwd, binary) = line.split_once('\t').expect("cwd<TAB>binary");
        assert_eq!(
            Path::new(binary),
            Path::new(cwd).join("mr-local"),
            "{shipped}"
        );
        assert_ne!(Path::new(binary), Path::new(BIN));
        assert_ne!(Path::new(binary), wordlength);
        let worker = Path::new(cwd)
            .strip_prefix(out)
            .ok()
            .and_then(|p| p.components().next())
            .map(|c| c.as_os_str().to_string_lossy().into_owned());
        workers.push(worker.unwrap_or_else(|| panic!("{cwd} not below a worker's directory")));
    }
    workers.sort();
    assert_eq!(workers, ["worker-1", "worker-2"], "{shipped}");
}

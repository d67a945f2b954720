"""Runs the README's Hadoop Streaming recipes on a Spark standalone cluster.

Usage: python streaming_cluster.py MR_LOCAL WORDLENGTH IN_DIR OUT_DIR

IN_DIR holds `text.txt`, `records.tsv` (reducer input with a bad record),
`words.txt` (a word that holds a comma) and `invert/` (the files to index).

Starts a standalone master and two workers of one core each, every one a
JVM of its own, on 127.0.0.1 and free ports (with `bin/spark-class` from
the pyspark wheel), waits until both workers have registered, and submits
this file to them as one application, `spark-submit --files
MR_LOCAL,WORDLENGTH streaming_cluster.py --recipes IN_DIR OUT_DIR`: the
executors run the copies Spark fetched into their own working directories
(`./mr-local`, or `SparkFiles.get`), never the paths given. Into OUT_DIR it
writes (logs in `logs/`, the workers' directories in `worker-N/`):

- `wordcount.tsv`: the README's recipe, with pyspark's `rdd.pipe`:
  `text.txt` through `map wordcount` and `combine wordcount` in the map
  stage (after a sort within each map partition), three reduce partitions
  and `reduce wordcount`; the first attempt of one map task fails after
  its mapper ran, so Spark reruns it (TASK_TO_FAIL);
- `invert.tsv`: the files of `invert/` through the JVM's `RDD.pipe`, which
  exports `mapreduce_map_input_file` from each task's input split as
  Hadoop Streaming does, then `reduce invert` (with `streaming`, below);
- `sort/part-*`: `text.txt` through `map sort`, three sorted reduce
  partitions and `reduce sort`, with pyspark's `rdd.pipe`, saved with
  `saveAsTextFile`;
- `wordlength.tsv`: `text.txt` through the `streaming_wordlength` example,
  with `streaming` (below), which finds it with `SparkFiles.get`;
- `bad-record.tsv` and `bad-record-counters.tsv`: `records.tsv` through
  one reducer, and the counters its stderr reported;
- `mapper-failure.txt`: the driver's error when the mapper run on
  `words.txt` with a comma as its output separator exits 1, through
  `streaming`, and `pipe-failure.txt` the same through pyspark's pipe;
- `shipped.tsv`: each executor's working directory and where
  `SparkFiles.get` found the binary there;
- `tasks.tsv`: from the event log, `job<TAB>executor<TAB>worker<TAB>end
  reason<TAB>tasks` for every job's tasks;
- `pids`: every process this script started, one PID a line, written as
  each starts, so that whoever runs it can kill them if it is killed.

Every process it starts is stopped by PID when it ends, on failure too
(SIGTERM runs the same cleanup), and every wait is bounded. The Rust test
(tests/spark_cluster.rs) compares the results with the local commands.
"""

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from subprocess import PIPE

# Spark's Python workers must be this interpreter, with pyspark in it.
os.environ["PYSPARK_PYTHON"] = sys.executable
os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"

import pyspark  # noqa: E402
from pyspark import AccumulatorParam, SparkContext, SparkFiles, TaskContext  # noqa: E402
from pyspark.rdd import RDD  # noqa: E402
from pyspark.serializers import UTF8Deserializer  # noqa: E402

WORKERS = 2
REDUCE_PARTITIONS = 3
MAP_PARTITIONS = 4
REGISTER_TIMEOUT_S = 90
APP_TIMEOUT_S = 240
JVM_OPTS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
STOP_TIMEOUT_S = 15
# The wordcount map task whose first attempt fails after its mapper ran:
# Spark runs it again from its input split, and the counts must not double.
TASK_TO_FAIL = 1


def hadoop_key(line):
    """The key Hadoop's shuffle sorts by: the bytes before the first tab
    (bytes, since Python compares `str` by code point)."""
    return line.split("\t", 1)[0].encode("utf-8")


def by_key(rdd, partitions):
    """Hadoop's shuffle: lines hash partitioned by key and sorted by it
    within each partition."""
    return rdd.keyBy(hadoop_key).repartitionAndSortWithinPartitions(partitions).values()


class Counters(AccumulatorParam):
    """Sums Hadoop counters, `{(group, name): n}`, across tasks."""

    def zero(self, value):
        return {}

    def addInPlace(self, a, b):
        for name, n in b.items():
            a[name] = a.get(name, 0) + n
        return a


def streaming(rdd, command, counters=None, env=None):
    """`rdd.pipe(command)` for a Hadoop Streaming command whose first word
    names a file shipped with `--files` or `addFile`: found on the executor
    with `SparkFiles.get`; a non-zero exit fails the task with the command's
    stderr (less its `reporter:` lines) in the error, which Spark shows the
    driver; `reporter:counter:GROUP,NAME,N` lines go to `counters`."""
    argv = shlex.split(command)

    def run(lines):
        binary = SparkFiles.get(argv[0])
        proc = subprocess.Popen([binary, *argv[1:]], stdin=PIPE, stdout=PIPE, stderr=PIPE, env=env or {})
        stderr, failed = [], []

        def feed():
            try:
                for line in lines:
                    proc.stdin.write(line.encode("utf-8") + b"\n")
            except BrokenPipeError:
                pass  # the command ended early: its exit status says why
            except BaseException as e:  # the input failed: end the command's
                failed.append(e)
            finally:
                try:
                    proc.stdin.close()
                except BrokenPipeError:
                    pass

        threads = [threading.Thread(target=feed), threading.Thread(target=lambda: stderr.extend(proc.stderr))]
        for thread in threads:
            thread.start()
        for line in proc.stdout:
            yield line.rstrip(b"\n").decode("utf-8")
        for thread in threads:
            thread.join()
        if failed:
            raise failed[0]
        text = [line.decode("utf-8", "replace").rstrip("\n") for line in stderr]
        if proc.wait() != 0:
            errors = "; ".join(line for line in text if not line.startswith("reporter:"))
            raise RuntimeError(f"{command}: exit status {proc.returncode}: {errors}")
        if counters is not None:
            found = {}
            for line in text:
                if line.startswith("reporter:counter:"):
                    group, name, n = line[len("reporter:counter:") :].rsplit(",", 2)
                    found[(group, name)] = found.get((group, name), 0) + int(n)
            counters.add(found)

    return rdd.mapPartitions(run)


def jvm_pipe(sc, paths, command, partitions):
    """`sc.textFile(paths).pipe(command)` run by the JVM's `RDD.pipe`, which
    (unlike pyspark's) exports `mapreduce_map_input_file` from each task's
    input split, as Hadoop Streaming does; the command runs in the
    executor's working directory, where `addFile` put the binary."""
    jrdd = sc._jsc.textFile(",".join(paths), partitions).pipe(command)
    return RDD(jrdd, sc, UTF8Deserializer())


def fail_first_attempt(index, lines):
    """For `mapPartitionsWithIndex`: fails the first attempt of task
    TASK_TO_FAIL once its lines are all computed (its mapper ran to the end)."""
    lines = list(lines)
    if index == TASK_TO_FAIL and TaskContext.get().attemptNumber() == 0:
        raise RuntimeError(f"failing the first attempt of task {index} on purpose")
    return lines


def write_lines(path, lines):
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for line in lines:
            out.write(line + "\n")


def run_recipes(sc, inputs, out):
    """The README's recipes and the failure cases, one Spark job each
    (named by its description in the event log)."""
    text = os.path.join(inputs, "text.txt")
    invert = os.path.join(inputs, "invert")
    invert_files = [os.path.join(invert, name) for name in sorted(os.listdir(invert))]
    sc.setJobDescription("shipped")
    probe = sc.parallelize(range(8), 8).map(lambda _: (os.getcwd(), SparkFiles.get("mr-local")))
    write_lines(os.path.join(out, "shipped.tsv"), sorted({"\t".join(p) for p in probe.collect()}))

    sc.setJobDescription("wordcount")
    # The README's recipe, with pyspark's own rdd.pipe: the commands run in
    # the executor's working directory, where --files put the binary. Small
    # chunks give the combiner several per partition to fold.
    lines = sc.textFile(text, MAP_PARTITIONS)
    counts = (
        lines.pipe("./mr-local streaming map wordcount --threads 1 --chunk-size 16K", checkCode=True)
        .mapPartitions(lambda lines: sorted(lines, key=hadoop_key))
        .pipe("./mr-local streaming combine wordcount", checkCode=True)
        .mapPartitionsWithIndex(fail_first_attempt)
        .keyBy(hadoop_key)
        .repartitionAndSortWithinPartitions(REDUCE_PARTITIONS)
        .values()
        .pipe("./mr-local streaming reduce wordcount", checkCode=True)
    )
    write_lines(os.path.join(out, "wordcount.tsv"), counts.collect())
    print(f"spark cluster: wordcount: {lines.getNumPartitions()} map partitions")

    sc.setJobDescription("invert")
    mapped = jvm_pipe(sc, invert_files, "./mr-local streaming map invert --threads 1", MAP_PARTITIONS)
    index = streaming(by_key(mapped, REDUCE_PARTITIONS), "mr-local streaming reduce invert")
    write_lines(os.path.join(out, "invert.tsv"), index.collect())
    print(f"spark cluster: invert: {mapped.getNumPartitions()} map partitions")

    sc.setJobDescription("sort")
    mapped = sc.textFile(text, MAP_PARTITIONS).pipe("./mr-local streaming map sort", checkCode=True)
    reduced = by_key(mapped, REDUCE_PARTITIONS).pipe("./mr-local streaming reduce sort", checkCode=True)
    reduced.saveAsTextFile("file:" + os.path.join(out, "sort"))
    run_custom_job(sc, text, out)
    run_failures(sc, inputs, out)


def run_custom_job(sc, text, out):
    """The example `streaming_wordlength`, through `streaming`."""

    sc.setJobDescription("wordlength")
    mapped = streaming(sc.textFile(text, MAP_PARTITIONS), "streaming_wordlength map")
    lengths = streaming(by_key(mapped, REDUCE_PARTITIONS), "streaming_wordlength reduce")
    write_lines(os.path.join(out, "wordlength.tsv"), lengths.collect())


def run_failures(sc, inputs, out):
    """A bad record, and a mapper that exits 1 through `streaming` and
    through pyspark's own `rdd.pipe`."""
    sc.setJobDescription("bad record")
    counters = sc.accumulator({}, Counters())
    records = sc.textFile(os.path.join(inputs, "records.tsv"), MAP_PARTITIONS)
    reduced = streaming(by_key(records, 1), "mr-local streaming reduce wordcount", counters)
    write_lines(os.path.join(out, "bad-record.tsv"), reduced.collect())
    write_lines(
        os.path.join(out, "bad-record-counters.tsv"),
        sorted(f"{name}\t{n}" for (group, name), n in counters.value.items() if group == "mr-local"),
    )

    sc.setJobDescription("mapper failure")
    words = sc.textFile(os.path.join(inputs, "words.txt"), 1)
    command = "mr-local streaming map wordcount --split whitespace --map-output-field-separator ,"
    try:
        streaming(words, command).collect()
        error = "the job succeeded"
    except Exception as e:  # Py4JJavaError: the job's failure, the task's error in it
        error = str(e)
    with open(os.path.join(out, "mapper-failure.txt"), "w", encoding="utf-8") as f:
        f.write(error)

    # The same with pyspark's rdd.pipe: the mapper's stderr stays in the
    # executor's log.
    sc.setJobDescription("pipe failure")
    try:
        words.pipe(f"./{command}", checkCode=True).collect()
        error = "the job succeeded"
    except Exception as e:
        error = str(e)
    with open(os.path.join(out, "pipe-failure.txt"), "w", encoding="utf-8") as f:
        f.write(error)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(pid):
    """The PIDs of `pid`'s descendants, deepest first, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found += [*descendants(int(entry)), int(entry)]
    return found


class Cluster:
    """A standalone master and WORKERS workers, each a `spark-class` JVM."""

    def __init__(self, out):
        self.out = out
        self.procs = []
        self.spark_class = os.path.join(os.path.dirname(pyspark.__file__), "bin", "spark-class")
        # Short-lived JVMs on few cores: the quick JIT only, one GC thread,
        # small heaps.
        self.env = dict(
            os.environ,
            SPARK_HOME=os.path.dirname(pyspark.__file__),
            SPARK_DAEMON_JAVA_OPTS=JVM_OPTS,
            SPARK_DAEMON_MEMORY="256m",
        )
        os.makedirs(os.path.join(out, "logs"), exist_ok=True)
        self.master_ui = free_port()
        self.url = f"spark://127.0.0.1:{free_port()}"
        self.worker_uis = {}  # "127.0.0.1:PORT" of each worker's web UI: its name

    def start(self, name, *command):
        """Starts `command`, its output to `logs/NAME.log`, its PID noted."""
        log = open(os.path.join(self.out, "logs", f"{name}.log"), "wb")
        proc = subprocess.Popen(command, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        proc.name = name
        self.procs.append(proc)
        with open(os.path.join(self.out, "pids"), "a") as pids:
            pids.write(f"{proc.pid}\n")
        return proc

    def __enter__(self):
        try:
            port = self.url.rsplit(":", 1)[1]
            self.start("master", self.spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                       "--port", port, "--webui-port", str(self.master_ui))
            # A worker that finds no master retries only after 5 to 15 s.
            self.wait_until("the master is up", lambda state: state.get("status") == "ALIVE")
            for i in range(1, WORKERS + 1):
                name, ui = f"worker-{i}", free_port()
                self.worker_uis[f"127.0.0.1:{ui}"] = name
                self.start(name, self.spark_class, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                           "--cores", "1", "--memory", "1g", "--webui-port", str(ui),
                           "--work-dir", os.path.join(self.out, name), self.url)
            self.wait_until(
                f"{WORKERS} workers registered",
                lambda state: sum(w.get("state") == "ALIVE" for w in state.get("workers", [])) == WORKERS,
            )
        except BaseException:
            self.stop()
            raise
        return self

    def wait_until(self, what, done):
        """Polls the master's state (its UI's JSON) until `done(state)`, for
        at most REGISTER_TIMEOUT_S; fails if a process started has ended."""
        deadline = time.monotonic() + REGISTER_TIMEOUT_S
        while time.monotonic() < deadline:
            for proc in self.procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"the {proc.name} exited {proc.returncode}\n{self.log_tails()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.master_ui}/json/", timeout=5) as r:
                    if done(json.load(r)):
                        return
            except OSError:
                pass  # the master's UI is not up yet
            time.sleep(0.1)
        raise RuntimeError(f"not {what} after {REGISTER_TIMEOUT_S} s\n{self.log_tails()}")

    def log_tails(self, lines=15):
        """The last lines of each log, for an error (the test's directory
        goes when it ends)."""
        tails = []
        for proc in self.procs:
            with open(os.path.join(self.out, "logs", f"{proc.name}.log"), "rb") as log:
                tail = log.read().decode("utf-8", "replace").splitlines()[-lines:]
            tails.append(f"--- logs/{proc.name}.log:\n" + "\n".join(tail))
        return "\n".join(tails)

    def stop(self):
        """SIGTERM to the processes started, last first, each after its
        descendants (a worker's executors, the driver's Python), then SIGKILL
        to whatever is left after STOP_TIMEOUT_S."""
        pids = [pid for p in reversed(self.procs) for pid in [*descendants(p.pid), p.pid]]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for proc in self.procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)  # an executor that outlived its worker
            except ProcessLookupError:
                pass

    def __exit__(self, *exc):
        self.stop()


def task_table(events_dir, worker_uis):
    """`job, executor, worker, end reason, tasks` rows from the event log;
    an executor's worker is found from its log URL, on the worker's UI."""
    job_of_stage, workers, tasks = {}, {}, {}
    for name in os.listdir(events_dir):
        with open(os.path.join(events_dir, name), encoding="utf-8") as f:
            for line in f:
                event = json.loads(line)
                kind = event["Event"]
                if kind == "SparkListenerJobStart":
                    job = event.get("Properties", {}).get("spark.job.description", "?")
                    for stage in event["Stage IDs"]:
                        job_of_stage[stage] = job
                elif kind == "SparkListenerExecutorAdded":
                    logs = event["Executor Info"].get("Log Urls", {}).get("stderr", "")
                    # http://127.0.0.1:WORKER_UI_PORT/logPage/?appId=…
                    ui = logs.split("/")[2] if logs.count("/") > 2 else "?"
                    workers[event["Executor ID"]] = worker_uis.get(ui, ui)
                elif kind == "SparkListenerTaskEnd":
                    info = event["Task Info"]
                    key = (job_of_stage.get(event["Stage ID"], "?"), info["Executor ID"],
                           event["Task End Reason"]["Reason"])
                    tasks[key] = tasks.get(key, 0) + 1
    return [f"{job}\t{ex}\t{workers.get(ex, '?')}\t{reason}\t{n}" for (job, ex, reason), n in sorted(tasks.items())]


def submit(cluster, mr_local, wordlength, inputs, out):
    """This file again, as the application, by `spark-submit --files`."""
    events = os.path.join(out, "events")
    os.makedirs(events, exist_ok=True)
    conf = {
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.executor.cores": "1",
        "spark.executor.memory": "512m",
        "spark.driver.memory": "512m",
        "spark.driver.extraJavaOptions": JVM_OPTS,
        "spark.executor.extraJavaOptions": JVM_OPTS,
        "spark.cores.max": str(WORKERS),
        # Wait (bounded) for both executors before the first task.
        "spark.scheduler.minRegisteredResourcesRatio": "1.0",
        "spark.scheduler.maxRegisteredResourcesWaitingTime": f"{REGISTER_TIMEOUT_S}s",
        "spark.locality.wait": "0s",
        # A failed task is tried twice before it fails the job (4 by default).
        "spark.task.maxFailures": "2",
        "spark.eventLog.enabled": "true",
        "spark.eventLog.dir": "file:" + events,
        "spark.eventLog.compress": "false",
        "spark.eventLog.rolling.enabled": "false",
    }
    command = [os.path.join(cluster.env["SPARK_HOME"], "bin", "spark-submit"), "--master", cluster.url,
               "--files", f"{mr_local},{wordlength}"]
    for name, value in conf.items():
        command += ["--conf", f"{name}={value}"]
    app = cluster.start("driver", *command, os.path.abspath(__file__), "--recipes", inputs, out)
    try:
        app.wait(APP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"the application still running after {APP_TIMEOUT_S} s") from None
    with open(os.path.join(out, "logs", "driver.log"), "rb") as log:
        lines = log.read().decode("utf-8", "replace").splitlines()
    if app.returncode != 0:
        tail = "\n".join(lines[-60:])
        raise RuntimeError(f"spark-submit exited {app.returncode}:\n{tail}")
    print("\n".join(line for line in lines if line.startswith("spark cluster:")))
    return task_table(events, cluster.worker_uis)


def main():
    # SIGTERM (a test's timeout) unwinds through the finally blocks below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    if sys.argv[1] == "--recipes":
        sc = SparkContext(appName="mr-local streaming recipes")
        sc.setLogLevel("ERROR")
        version = sc.version
        try:
            run_recipes(sc, *sys.argv[2:4])
        finally:
            sc.stop()
        print(f"spark cluster: Spark {version}: the recipes ran in {time.monotonic() - started:.1f} s")
        return
    mr_local, wordlength, inputs, out = sys.argv[1:5]
    with Cluster(out) as cluster:
        print(f"spark cluster: {WORKERS} workers registered in {time.monotonic() - started:.1f} s")
        tasks = submit(cluster, mr_local, wordlength, inputs, out)
    write_lines(os.path.join(out, "tasks.tsv"), tasks)
    print(f"spark cluster: done in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()

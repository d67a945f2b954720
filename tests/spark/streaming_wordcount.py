"""Runs mr-local's Hadoop Streaming mapper and reducer under Apache Spark.

Usage: python streaming_wordcount.py MR_LOCAL OUT_DIR INPUT...

For each INPUT (numbered from 0), Spark in local mode:

1. reads it as an RDD of lines (sc.textFile),
2. pipes each partition through `MR_LOCAL streaming map wordcount`,
3. keys each `word<TAB>count` line by the text before the tab, hash
   partitions by it and sorts within partitions by the key's UTF-8 bytes
   (LC_ALL=C order, as Hadoop's shuffle sorts: Python would compare str by
   code point),
4. pipes each partition through `MR_LOCAL streaming combine wordcount` and
   then `MR_LOCAL streaming reduce wordcount`,
5. collects the reducers' lines into OUT_DIR/spark-N.tsv, in partition
   order (each partition sorted by key on its own).

The Rust test (tests/streaming.rs) compares them with `mr-local wordcount`.
"""

import os
import shlex
import sys

# Spark's Python workers must be this interpreter, with pyspark in it.
os.environ["PYSPARK_PYTHON"] = sys.executable
os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

from pyspark import SparkConf, SparkContext  # noqa: E402

PARTITIONS = 3


def main():
    mr_local, out_dir, inputs = sys.argv[1], sys.argv[2], sys.argv[3:]
    binary = shlex.quote(mr_local)
    conf = (
        SparkConf()
        .setMaster("local[2]")
        .setAppName("mr-local streaming wordcount")
        .set("spark.ui.enabled", "false")
        .set("spark.driver.host", "127.0.0.1")
        .set("spark.driver.bindAddress", "127.0.0.1")
    )
    sc = SparkContext(conf=conf)
    sc.setLogLevel("ERROR")
    try:
        for i, path in enumerate(inputs):
            lines = sc.textFile(path, minPartitions=4)
            mapped = lines.pipe(f"{binary} streaming map wordcount --threads 1", checkCode=True)
            shuffled = mapped.map(lambda line: (line.split("\t", 1)[0], line)).repartitionAndSortWithinPartitions(
                numPartitions=PARTITIONS, keyfunc=lambda key: key.encode("utf-8")
            )
            reduced = (
                shuffled.values()
                .pipe(f"{binary} streaming combine wordcount", checkCode=True)
                .pipe(f"{binary} streaming reduce wordcount", checkCode=True)
            )
            result = reduced.collect()
            with open(os.path.join(out_dir, f"spark-{i}.tsv"), "w", encoding="utf-8", newline="\n") as out:
                for line in result:
                    out.write(line + "\n")
            print(f"spark: {path}: {len(result)} words, {lines.getNumPartitions()} input partitions")
    finally:
        sc.stop()


if __name__ == "__main__":
    main()

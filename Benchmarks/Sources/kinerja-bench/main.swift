// kinerja-bench: figures for the closing notes and BENCHMARKS.md. Run from the repository root:
//   swift run -c release --package-path Benchmarks kinerja-bench import --events 1000000
//   swift run -c release --package-path Benchmarks kinerja-bench demo --employees 10000
//   swift run -c release --package-path Benchmarks kinerja-bench replay --employees 60000

switch CommandLine.arguments.dropFirst().first {
case "import": try importBenchmark()
case "demo": try demoBenchmark()
case "replay": try replayBenchmark()
default:
    print("usage: kinerja-bench import [--events N] [--batch N] | demo [--employees N] | replay [--employees N | --ledger PATH] [--histories N]")
}

// Preloaded with `node --import` into a measured process: prints its peak resident set size (all
// threads) on exit, so a benchmark can read the peak memory of a whole CLI run.
process.on('exit', () => {
  process.stderr.write(`\nBENCH_MAX_RSS_KB=${process.resourceUsage().maxRSS}\n`);
});

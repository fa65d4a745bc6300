/**
 * What `npm run seed` (scripts/seed.js) shows: its progress on stderr (a bar on a terminal, a line per tenth
 * otherwise) and the summary of what was accepted, as tables or JSON.
 */
'use strict';

function createProgress(total) {
  if (!process.stderr.isTTY) {
    let lastShown = -1;
    return {
      update(done, extra) {
        const tenth = Math.floor((done / total) * 10);
        if (tenth !== lastShown) {
          lastShown = tenth;
          console.error(
            `seed: ${done}/${total} events (${extra.accepted} accepted, ${extra.retries} retries)`,
          );
        }
      },
      stop() {},
    };
  }
  let cliProgress;
  try {
    cliProgress = require('cli-progress');
  } catch {
    cliProgress = null;
  }
  if (!cliProgress) {
    return {
      update(done, extra) {
        process.stderr.write(
          `\rseed: ${done}/${total} events, ${extra.accepted} accepted, ${extra.retries} retries`,
        );
      },
      stop() {
        process.stderr.write('\n');
      },
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format:
        'seed [{bar}] {percentage}% | {value}/{total} events | {rate} ev/s | accepted {accepted} | retries {retries} | ETA {eta}s',
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  bar.start(total, 0, { accepted: 0, retries: 0, rate: 0 });
  return {
    update(done, extra) {
      const rate = Math.round(done / Math.max((Date.now() - started) / 1000, 0.001));
      bar.update(done, { ...extra, rate });
    },
    stop() {
      bar.stop();
    },
  };
}

function printSummary(opts, sender, summary, seconds) {
  const { stats } = sender;
  const report = {
    site_id: opts.site,
    accepted: stats.accepted,
    rejected: stats.rejected,
    requests: stats.requests,
    retries: stats.retries,
    seconds: Number(seconds.toFixed(1)),
    rejections: Object.fromEntries(stats.rejections),
    ...summary,
  };
  if (opts.json) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  console.log(
    `\nSent to ${opts.url}: ${stats.accepted} events accepted (202), ${stats.rejected} rejected, ` +
      `${stats.requests} requests, ${stats.retries} retries, ${report.seconds} s.`,
  );
  for (const [reason, n] of stats.rejections) console.log(`  rejected ${n}: ${reason}`);
  console.log('\nPer UTC day (what GET /stats?date=<day> should answer once the processor has caught up):\n');
  console.log('date        events  total_views  unique_users  top paths');
  for (const d of summary.days) {
    const paths = d.top_paths
      .slice(0, 5)
      .map((p) => `${p.path} ${p.views}`)
      .join(', ');
    console.log(
      `${d.date}  ${String(d.events).padStart(6)}  ${String(d.total_views).padStart(11)}  ${String(d.unique_users).padStart(12)}  ${paths}`,
    );
  }
  if (summary.range) {
    const r = summary.range;
    console.log(
      `\nWhole range ${r.from}..${r.to}: total_views ${r.total_views}, unique_users ${r.unique_users}` +
        ` (a user seen on several days counts once)`,
    );
    console.log(`top_paths: ${r.top_paths.map((p) => `${p.path} ${p.views}`).join(', ')}`);
    console.log(
      `\nCheck: curl -s -H "Authorization: Bearer $READ_KEY" ` +
        `'<reporting>/stats?site_id=${opts.site}&from=${r.from}&to=${r.to}'`,
    );
    console.log('These figures count only this run: events already stored for the site add to /stats.');
  }
}

module.exports = { createProgress, printSummary };

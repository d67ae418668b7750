// Reads feed documents with a Node.js feed library and prints, as JSON, what
// it makes of each entry: node read.js rss-parser|feedparser FILE...
// Output: {"FILE": {"entries": [...]} or {"error": "..."}, ...}.
'use strict';
const fs = require('fs');
const { Readable } = require('stream');

const iso = (d) => {
  if (!d) return '';
  const t = new Date(d);
  return isNaN(t) ? '' : t.toISOString().replace(/\.\d{3}Z$/, 'Z');
};

async function withRSSParser(body) {
  const Parser = require('rss-parser');
  const feed = await new Parser().parseString(body);
  return feed.items.map((it) => ({
    title: it.title || '',
    link: it.link || '',
    id: it.guid || it.id || '',
    published: iso(it.isoDate || it.pubDate),
    updated: '',
    author: it.creator || it.author || '',
    source: '',
  }));
}

function withFeedparser(body) {
  const FeedParser = require('feedparser');
  return new Promise((resolve, reject) => {
    const fp = new FeedParser({ normalize: true, addmeta: false });
    const out = [];
    fp.on('error', reject);
    fp.on('readable', function () {
      let it;
      while ((it = this.read())) {
        out.push({
          title: it.title || '',
          link: it.link || '',
          id: it.guid || '',
          published: iso(it.pubdate),
          updated: iso(it.date),
          author: it.author || '',
          source: (it.source && it.source.title) || '',
        });
      }
    });
    fp.on('end', () => resolve(out));
    Readable.from([body]).pipe(fp);
  });
}

async function main() {
  const [which, ...files] = process.argv.slice(2);
  const read = { 'rss-parser': withRSSParser, feedparser: withFeedparser }[which];
  if (!read) throw new Error('unknown reader ' + which);
  const result = {};
  for (const f of files) {
    try {
      result[f] = { entries: await read(fs.readFileSync(f, 'utf8')) };
    } catch (e) {
      result[f] = { error: String(e && e.message ? e.message : e) };
    }
  }
  process.stdout.write(JSON.stringify(result));
}

main().catch((e) => { console.error(e); process.exit(1); });

#!/usr/bin/env bash
# How the committed sample answers were made (espeak-ng + sox, Debian packages).
# Re-running it rewrites the files; tests check their transcripts, not their bytes.
set -euo pipefail
cd "$(dirname "$0")"
say() {  # say VOICE TEXT OUT.wav
  espeak-ng -v "$1" -s 155 -w "$3.raw.wav" "$2"
  sox -R "$3.raw.wav" -r 16000 -c 1 -b 16 "$3"
  rm -f "$3.raw.wav"
}
gap() { sox -n -r 16000 -c 1 -b 16 "$2" trim 0 "$1"; }
tmp=$(mktemp -d)
say en-us "Last year our checkout service, um, started timing out during peak sales, and customers were abandoning their carts." "$tmp/s1.wav"
say en-us "As the on-call engineer, my task was to find the cause and fix it before the holiday launch." "$tmp/s2.wav"
say en-us "I profiled the slowest requests and found, uh, an unindexed query on the orders table." "$tmp/s3.wav"
say en-us "I added the index, moved the report job off the primary database, and set up latency alerts." "$tmp/s4.wav"
say en-us "As a result, checkout latency dropped by 60 percent and abandoned carts fell 15 percent that quarter." "$tmp/s5.wav"
say en-us "Looking back, I would add load tests before every launch." "$tmp/s6.wav"
gap 0.5 "$tmp/g_short.wav"; gap 2.4 "$tmp/g_long.wav"
sox "$tmp/g_short.wav" "$tmp/s1.wav" "$tmp/g_short.wav" "$tmp/s2.wav" "$tmp/g_short.wav" "$tmp/s3.wav" \
    "$tmp/g_long.wav" "$tmp/s4.wav" "$tmp/g_short.wav" "$tmp/s5.wav" "$tmp/g_short.wav" "$tmp/s6.wav" \
    "$tmp/g_short.wav" demo-answer.wav
sox demo-answer.wav -C 8 demo-answer.flac && rm demo-answer.wav
# A short clip for fast tests: one sentence, known words.
say en-us "I reduced the build time from forty minutes to ten minutes." "$tmp/short.wav"
sox "$tmp/g_short.wav" "$tmp/short.wav" "$tmp/g_short.wav" short-answer.flac
rm -rf "$tmp"

/** Hand-made NDJSON lines for pipeline tests (independent of the generator). */
export function itemLine(id: string, over: Record<string, unknown> = {}): string {
  return JSON.stringify({
    item_id: id,
    item_type: 'news',
    title: `Title of ${id} — ünïcödé ✓`,
    summary: 'A summary',
    claims: ['claim'],
    evidence: [{ url: 'https://www.reuters.com/a', source: 'Reuters', published_at: '2024-01-01T00:00:00Z' }, 'https://apnews.com/b'],
    scores: { impact: 20, timeliness: 15, virality: 10, relevance: 22, confidence: 8 },
    risk_flags: [],
    explainability: ['seed'],
    ...over,
  });
}

/** `n` valid lines with a bad line every `badEvery` lines and a blank one every `blankEvery`. */
export function mixedFeed(n: number, badEvery = 0, blankEvery = 0): { lines: string[]; bad: number; blank: number; good: number } {
  const lines: string[] = [];
  let bad = 0;
  let blank = 0;
  for (let i = 1; i <= n; i++) {
    if (blankEvery > 0 && i % blankEvery === 0) { lines.push(''); blank++; }
    else if (badEvery > 0 && i % badEvery === 0) { lines.push(i % 2 === 0 ? '{"item_id": "broken", ' : '[1,2,3]'); bad++; }
    else lines.push(itemLine(`item-${i}`));
  }
  return { lines, bad, blank, good: n - bad - blank };
}

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let source: string | undefined;

/**
 * Chart.js's prebuilt browser bundle (UMD, minified; it sets `window.Chart`),
 * read from the installed package, to be inlined into the report: the page
 * loads nothing from the network. Its source-map comment is dropped (a
 * browser's developer tools would try to fetch the map).
 */
export function chartJsSource(): string {
  if (source !== undefined) return source;
  const text = readFileSync(join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
  // Inlined in a <script> element, the code must not hold what would end it early.
  if (/<\/script|<!--/i.test(text)) throw new Error('chart.js\'s bundle holds </script or <!--: it cannot be inlined as it is');
  source = text;
  return text;
}

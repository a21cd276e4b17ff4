/**
 * A small SVG chart generated from the benchmark's own JSON: requests/s and p99 latency by concurrency for the
 * service and the peer, with the ceilings drawn as horizontal lines. No dependencies; readable on GitHub.
 */
export interface Series {
  readonly name: string;
  readonly color: string;
  /** concurrency → value */
  readonly points: readonly { readonly x: number; readonly y: number }[];
}

export interface Ceiling {
  readonly name: string;
  readonly color: string;
  readonly y: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function panel(
  title: string,
  unit: string,
  series: readonly Series[],
  ceilings: readonly Ceiling[],
  xs: readonly number[],
  left: number,
  top: number,
  width: number,
  height: number,
): string {
  const max = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.y)), ...ceilings.map((c) => c.y)) * 1.1;
  const groupWidth = width / xs.length;
  const barWidth = (groupWidth * 0.8) / Math.max(1, series.length);
  const y = (v: number) => top + height - (v / max) * height;
  const out: string[] = [
    `<text x="${left}" y="${top - 12}" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<line x1="${left}" y1="${top + height}" x2="${left + width}" y2="${top + height}" stroke="#333"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + height}" stroke="#333"/>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (max / 4) * i;
    out.push(
      `<text x="${left - 6}" y="${y(v) + 4}" font-size="10" text-anchor="end">${Math.round(v).toLocaleString('en-US')}</text>`,
      `<line x1="${left}" y1="${y(v)}" x2="${left + width}" y2="${y(v)}" stroke="#ddd"/>`,
    );
  }
  out.push(
    `<text x="${left - 40}" y="${top + height / 2}" font-size="11" transform="rotate(-90 ${left - 40} ${top + height / 2})" text-anchor="middle">${esc(unit)}</text>`,
  );
  xs.forEach((x, i) => {
    const gx = left + i * groupWidth + groupWidth * 0.1;
    out.push(
      `<text x="${left + i * groupWidth + groupWidth / 2}" y="${top + height + 16}" font-size="11" text-anchor="middle">${x} concurrent</text>`,
    );
    series.forEach((s, j) => {
      const point = s.points.find((p) => p.x === x);
      if (point) {
        out.push(
          `<rect x="${gx + j * barWidth}" y="${y(point.y)}" width="${barWidth - 2}" height="${top + height - y(point.y)}" fill="${s.color}"><title>${esc(s.name)}: ${point.y.toFixed(1)} ${esc(unit)}</title></rect>`,
        );
      }
    });
  });
  for (const c of ceilings) {
    out.push(
      `<line x1="${left}" y1="${y(c.y)}" x2="${left + width}" y2="${y(c.y)}" stroke="${c.color}" stroke-width="2" stroke-dasharray="6 4"/>`,
      `<text x="${left + width - 4}" y="${y(c.y) - 4}" font-size="10" text-anchor="end" fill="${c.color}">${esc(c.name)} ${Math.round(c.y).toLocaleString('en-US')}</text>`,
    );
  }
  return out.join('\n');
}

export function chart(
  throughput: readonly Series[],
  p99: readonly Series[],
  ceilings: readonly Ceiling[],
  xs: readonly number[],
  caption: string,
): string {
  const width = 920;
  const legend = throughput
    .map(
      (s, i) =>
        `<rect x="${70 + i * 220}" y="372" width="12" height="12" fill="${s.color}"/><text x="${88 + i * 220}" y="382" font-size="12">${esc(s.name)}</text>`,
    )
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="420" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
${panel('Throughput (higher is better)', 'requests/s', throughput, ceilings, xs, 70, 40, 360, 280)}
${panel('p99 latency (lower is better)', 'ms', p99, [], xs, 540, 40, 360, 280)}
${legend}
<text x="70" y="408" font-size="11" fill="#555">${esc(caption)}</text>
</svg>
`;
}

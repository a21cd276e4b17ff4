/**
 * Where a process's main thread spends its CPU, from a V8 `.cpuprofile` (node --cpu-prof): self time grouped by
 * npm package (or node: module / native frame / app file), as a share of the busy (non-idle) time.
 */
import { readFileSync } from 'node:fs';

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * Calls `visit` for each sample of the `.cpuprofile` at `path` (idle included) with its frame, the time it stands for
 * and when it was taken (µs, on the profile's clock); returns the profile's end time.
 */
export function forEachSample(path: string, visit: (node: ProfileNode, deltaUs: number, atUs: number) => void): number {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    const node = byId.get(id);
    if (node) {
      visit(node, delta, at);
    }
  });
  return profile.endTime;
}

function owner(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  const marker = '/node_modules/';
  if (url.includes(marker)) {
    const parts = url.slice(url.lastIndexOf(marker) + marker.length).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? url);
  }
  if (url.startsWith('node:')) {
    return 'node (core)';
  }
  if (url === '') {
    return `(${functionName})`;
  }
  return 'this service';
}

/** Busy-time shares by owner, largest first (idle excluded). */
export function cpuShares(path: string): { owner: string; share: number }[] {
  const totals = new Map<string, number>();
  forEachSample(path, (node, delta) => {
    if (node.callFrame.functionName !== '(idle)') {
      const key = owner(node);
      totals.set(key, (totals.get(key) ?? 0) + delta);
    }
  });
  const busy = [...totals.values()].reduce((a, b) => a + b, 0);
  return [...totals.entries()].map(([o, t]) => ({ owner: o, share: t / busy })).sort((a, b) => b.share - a.share);
}

/** Packages that make up the HTTP framework layer, Express's or Fastify's. */
export const HTTP_FRAMEWORK = new Set([
  'express',
  'router',
  'body-parser',
  'raw-body',
  'type-is',
  'path-to-regexp',
  'parseurl',
  'finalhandler',
  'send',
  'content-type',
  'fastify',
  '@fastify/middie',
  'find-my-way',
  'light-my-request',
]);

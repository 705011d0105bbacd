// Summarises a V8 .cpuprofile (`npm run bench -- <group> --cpu-profile DIR`, bench/stack.ts): self time by package
// or source folder, then by function. `npx tsx bench/cpu-profile.ts FILE [how many functions]`
import fs from 'node:fs';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** A package of node_modules, a folder of this repository, a node: module, or the engine itself. */
function groupOf(url: string): string {
  if (!url) return '(engine: gc, idle, native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return url;
  const own = /\/((?:src|bench|test)\/[^/]+|worker\.ts)/.exec(url);
  return own ? own[1]! : url.slice(-60);
}

export function summariseCpuProfile(profile: CpuProfile, functions = 30): string {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const byGroup = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
    const group = groupOf(url);
    byGroup.set(group, (byGroup.get(group) ?? 0) + us);
    const where = url ? `${url.split('/').slice(-2).join('/')}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  }
  const rows = (map: Map<string, number>, n: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(
        ([key, us]) =>
          `${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)} %  ${key}`,
      );
  return [
    `${(total / 1000).toFixed(0)} ms sampled`,
    'by package or folder (self time)',
    ...rows(byGroup, 25),
    'by function (self time)',
    ...rows(byFunction, functions),
  ].join('\n');
}

if (process.argv[1]?.endsWith('cpu-profile.ts')) {
  const [file, functions = '30'] = process.argv.slice(2);
  if (!file) {
    console.error('usage: npx tsx bench/cpu-profile.ts FILE.cpuprofile [functions]');
    process.exit(2);
  }
  console.log(
    `${file}: ${summariseCpuProfile(JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile, Number(functions))}`,
  );
}

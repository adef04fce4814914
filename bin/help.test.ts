import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, helpAfter } from './cli.ts';

/** Every command and subcommand, with the words a user types to reach it. */
function commandsOf(command: Command, path: string[] = []): [string, Command][] {
  return command.commands.flatMap((c): [string, Command][] => {
    const here = [...path, c.name()];
    return [[here.join(' '), c], ...commandsOf(c, here)];
  });
}

describe('--help explains itself (issue 14 item 13)', () => {
  it('every command and subcommand shows at least one example that starts with `meterlab`', async () => {
    const program = await buildProgram();
    const all = commandsOf(program);
    expect(all.length).toBeGreaterThan(20);
    const without = all
      .filter(([, c]) => !/Examples?:[\s\S]*^\s+meterlab /m.test(helpAfter(c)))
      .map(([n]) => n);
    expect(without).toEqual([]);
  });

  it('options whose absence has an effect say what it is', async () => {
    const program = await buildProgram();
    const help = new Map(
      commandsOf(program).map(([name, c]) => [name, c.helpInformation().replace(/\s+/g, ' ')]),
    );
    const expectations: [string, RegExp][] = [
      ['sim', /--heartbeat <period> .*\(default: the scenario's, 60s\)/],
      ['sim', /--seed <s> .*\(default: the scenario's, 1\)/],
      ['meters', /--faults <spec> .*\(default: none\)/],
      ['meters', /--wire <mode> .*default: simulated on a pty, physical otherwise/],
      ['poll', /--meter-type <hex> .*\(default: 10\)/],
      ['relay', /--token <token> .*\(default: none/],
      ['relay', /--origin <origin\.\.\.> .*\(default: any\)/],
      ['master', /--scenario <file> .*\(default: none/],
      ['vport', /--dir <dir> .*default: a fresh temporary folder/],
      ['master', /--heartbeat <seconds> .*\(default: 60\)/],
    ];
    for (const [name, pattern] of expectations) expect(help.get(name), name).toMatch(pattern);
  });

  it('loads only the chosen command: `encode` does not load the master station, the relay or serialport', async () => {
    const encodeOnly = await buildProgram(['node', 'meterlab', 'encode', 'cjt188-read', '--meter', '1']);
    expect(encodeOnly.commands.map((c) => c.name())).toEqual(['encode']);
  });
});

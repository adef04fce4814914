/**
 * The whole chain built from its parts, for tests that stop and start one of them: a master station, a relay
 * and a simulated fleet on 127.0.0.1. `runDemo` cannot do this: a restart must come back on the port the part
 * first got (port 0 the first time), or the concentrators and the relay would reconnect to nothing.
 *
 * Every reconnect schedule is shortened through its public option, so a restart heals in well under a second
 * instead of the production schedules' seconds; the tests still wait for each step with a deadline.
 * @internal test support
 */
import { Fleet } from '../../simulator/fleet/index.ts';
import { fleetSummary, type Scenario } from '../../simulator/scenario/index.ts';
import { archiveFromJson, MasterStation, type MasterStationOptions } from '../master/index.ts';
import { Relay, type RelayOptions } from '../relay/index.ts';

const LOOPBACK = '127.0.0.1';

/** Relay and client reconnects: 50 ms doubling to 500 ms (defaults 250 ms to 10 s). */
export const FAST_BACKOFF = { initialMs: 50, maxMs: 500 };
/** Concentrator reconnects: 100 ms doubling to 1 s (defaults 1 s to 60 s). */
const FAST_CONCENTRATOR_BACKOFF = { initialMs: 100, maxMs: 1000 };

/** Generous on purpose: two shared cores, socat and several test files run at once. */
const STEP_DEADLINE_MS = 20_000;

/**
 * Resolves once `check()` is true, polling every 20 ms; rejects naming `what` after `timeoutMs`.
 * Polling a condition (rather than sleeping a fixed time) makes a slow machine slower, never wrong.
 */
export async function eventually(
  check: () => boolean,
  what: string,
  timeoutMs = STEP_DEADLINE_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface ChainOptions {
  scenario: Scenario;
  relayOptions?: Partial<RelayOptions>;
  /** Passed to every master station the chain starts (e.g. `meterFrameTimeoutMs`), as runDemo's option of that name. */
  masterOptions?: Partial<MasterStationOptions>;
}

export class Chain {
  readonly scenario: Scenario;
  readonly fleet: Fleet;
  /** The running master station: a new instance after each {@link Chain.startMaster}, as after a process restart. */
  master: MasterStation | undefined;
  /** The running relay: a new instance after each {@link Chain.startRelay}. */
  relay: Relay | undefined;
  readonly #options: ChainOptions;
  /** Ports the parts got the first time; 0 until then. */
  readonly #ports = { listen: 0, api: 0, relay: 0 };

  private constructor(options: ChainOptions, scenario: Scenario, fleet: Fleet) {
    this.#options = options;
    this.scenario = scenario;
    this.fleet = fleet;
  }

  /** Master, relay (connected to it) and fleet (every concentrator logged in); releases all on failure. */
  static async start(options: ChainOptions): Promise<Chain> {
    const master = Chain.#newMaster(options, 0, 0);
    const { listen, api } = await master.start();
    // Point every concentrator at the master we just started (its port was 0).
    const scenario: Scenario = {
      ...options.scenario,
      concentrators: options.scenario.concentrators.map((c) => ({
        ...c,
        upstream: { mode: 'client', host: LOOPBACK, port: listen.port },
      })),
    };
    const fleet = new Fleet({ scenario, session: { backoff: FAST_CONCENTRATOR_BACKOFF } });
    const chain = new Chain(options, scenario, fleet);
    chain.master = master;
    chain.#ports.listen = listen.port;
    chain.#ports.api = api!.port;
    try {
      await chain.startRelay();
      await fleet.start();
      await chain.allLoggedIn();
      return chain;
    } catch (error) {
      await chain.stop();
      throw error;
    }
  }

  /** `ws://127.0.0.1:port` of the relay; the same across relay restarts. */
  get relayUrl(): string {
    return `ws://${LOOPBACK}:${this.#ports.relay}`;
  }

  /** Starts a new master station on the ports the first one got. */
  async startMaster(): Promise<MasterStation> {
    if (this.master) throw new Error('the master station is already running');
    const master = Chain.#newMaster(this.#options, this.#ports.listen, this.#ports.api);
    await master.start();
    this.master = master;
    return master;
  }

  async stopMaster(): Promise<void> {
    const master = this.master;
    this.master = undefined;
    await master?.stop();
  }

  /** Starts a new relay on the port the first one got and waits until it is connected to the master. */
  async startRelay(): Promise<Relay> {
    if (this.relay) throw new Error('the relay is already running');
    const relay = new Relay({
      host: LOOPBACK,
      port: this.#ports.relay,
      master: { host: LOOPBACK, port: this.#ports.api },
      masterBackoff: FAST_BACKOFF,
      ...this.#options.relayOptions,
    });
    this.relay = relay;
    const { url } = await relay.start();
    this.#ports.relay = Number(new URL(url).port);
    await eventually(() => relay.masterConnected, 'the relay is connected to the master station');
    return relay;
  }

  async stopRelay(): Promise<void> {
    const relay = this.relay;
    this.relay = undefined;
    await relay?.stop();
  }

  /** Resolves once every concentrator of the fleet is online at the current master station. */
  async allLoggedIn(): Promise<void> {
    const ids = this.scenario.concentrators.map((c) => c.id);
    await eventually(() => {
      const online = new Set(this.master?.sessions().flatMap((s) => (s.state === 'online' ? [s.id] : [])));
      return ids.every((id) => online.has(id));
    }, `all ${ids.length} concentrators are logged in at the master station`);
  }

  /** Stops everything that runs; harmless twice. */
  async stop(): Promise<void> {
    await this.stopRelay().catch(() => {});
    await this.fleet.stop().catch(() => {});
    await this.stopMaster().catch(() => {});
  }

  static #newMaster(options: ChainOptions, listen: number, api: number): MasterStation {
    return new MasterStation({
      listen: { host: LOOPBACK, port: listen },
      api: { host: LOOPBACK, port: api },
      archive: archiveFromJson(fleetSummary(options.scenario), options.scenario.name),
      heartbeatPeriodMs: Math.max(...options.scenario.concentrators.map((c) => c.heartbeatSeconds)) * 1000,
      ...options.masterOptions,
    });
  }
}

/**
 * The relay bench's second baseline: the chain's sockets with no work between them. A bare relay, master and
 * fleet pass each message along the same hops as the real chain — ws client → relay → (one NDJSON connection) →
 * master → (one TCP connection per concentrator) → fleet, and back — in the same processes, batching writes
 * where the real parts do (both ways on the relay ↔ master link) and writing one message per call where they
 * do (master ↔ concentrator). What this chain reaches is the most the real one could reach on this machine if
 * parsing, protocol work and simulation cost nothing. Bare `node:net` sockets on purpose: that is the baseline.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { WebSocketServer } from 'ws';

const LOOPBACK = '127.0.0.1';

/** Splits a socket's text into lines and calls `onLine` for each. */
function onLines(socket: Socket, onLine: (line: string) => void): void {
  let rest = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    rest += chunk;
    let nl = rest.indexOf('\n');
    while (nl >= 0) {
      onLine(rest.slice(0, nl));
      rest = rest.slice(nl + 1);
      nl = rest.indexOf('\n');
    }
  });
}

/** Writes lines issued in one turn of the event loop in one call, as the relay's and master's links do. */
function batchedWriter(socket: Socket): (line: string) => void {
  let pending: string[] = [];
  return (line) => {
    if (pending.length === 0) {
      queueMicrotask(() => {
        socket.write(pending.join(''));
        pending = [];
      });
    }
    pending.push(`${line}\n`);
  };
}

function listening(server: Server | WebSocketServer): Promise<number> {
  return new Promise((resolve) =>
    server.once('listening', () => resolve((server.address() as { port: number }).port)),
  );
}

/** The bare master: one port for the relay, one for the fleet's connections; round-robin over the fleet. */
export async function startBareMaster(): Promise<{
  relayPort: number;
  fleetPort: number;
  /** Resolves once `n` fleet connections are in. */
  fleetIn(n: number): Promise<void>;
  close(): void;
}> {
  const fleet: Socket[] = [];
  let fleetArrived: (() => void) | undefined;
  let toRelay: ((line: string) => void) | undefined;
  let next = 0;
  const relayServer = createServer({ noDelay: true }, (socket) => {
    toRelay = batchedWriter(socket);
    onLines(socket, (line) => {
      const concentrator = fleet[next++ % fleet.length];
      concentrator.write(`${line}\n`);
    });
  });
  const fleetServer = createServer({ noDelay: true }, (socket) => {
    fleet.push(socket);
    fleetArrived?.();
    onLines(socket, (line) => toRelay?.(line));
  });
  relayServer.listen(0, LOOPBACK);
  fleetServer.listen(0, LOOPBACK);
  const [relayPort, fleetPort] = await Promise.all([listening(relayServer), listening(fleetServer)]);
  return {
    relayPort,
    fleetPort,
    fleetIn: (n) =>
      new Promise<void>((resolve) => {
        fleetArrived = () => {
          if (fleet.length >= n) resolve();
        };
        fleetArrived();
      }),
    close() {
      for (const s of fleet) s.destroy();
      relayServer.close();
      fleetServer.close();
    },
  };
}

/** The bare relay: a ws server that tags each message with its client's number on the way to the master. */
export async function startBareRelay(masterPort: number): Promise<{ url: string; close(): void }> {
  const master = createConnection({ host: LOOPBACK, port: masterPort, noDelay: true });
  await new Promise((resolve) => master.once('connect', resolve));
  const toMaster = batchedWriter(master);
  const server = new WebSocketServer({ host: LOOPBACK, port: 0 });
  const clients = new Map<string, { send(text: string): void }>();
  let nextClient = 0;
  server.on('connection', (ws) => {
    const tag = String(nextClient++);
    clients.set(tag, ws);
    ws.on('message', (data) => toMaster(`${tag} ${String(data)}`));
    ws.on('close', () => clients.delete(tag));
  });
  onLines(master, (line) => {
    const space = line.indexOf(' ');
    clients.get(line.slice(0, space))?.send(line.slice(space + 1));
  });
  const port = await listening(server);
  return {
    url: `ws://${LOOPBACK}:${port}`,
    close() {
      master.destroy();
      server.close();
    },
  };
}

/** The bare fleet: `concentrators` connections to the master, each sending back every line it gets. */
export async function startBareFleet(masterPort: number, concentrators: number): Promise<() => void> {
  const sockets = await Promise.all(
    Array.from(
      { length: concentrators },
      () =>
        new Promise<Socket>((resolve) => {
          const socket = createConnection({ host: LOOPBACK, port: masterPort, noDelay: true });
          socket.once('connect', () => resolve(socket));
        }),
    ),
  );
  for (const socket of sockets) onLines(socket, (line) => socket.write(`${line}\n`));
  return () => {
    for (const s of sockets) s.destroy();
  };
}

/**
 * Child-process entry of the TF Serving stand-in for e2e tests: the servable runs in its own process (as TF
 * Serving does), so its computation never blocks the service under test, and tfjs runs at plain-Node speed.
 * Driven over the IPC channel by `StandInProcess` (stand-in.handle.ts).
 */
import { startStandIn } from './stand-in.js';
import type { StandInCommand, StandInReply } from './stand-in.handle.js';

const options = JSON.parse(process.argv[2] ?? '{}') as Parameters<typeof startStandIn>[0];
const server = await startStandIn(options);
const send = (reply: StandInReply) => process.send?.(reply);

process.on('message', (command: StandInCommand) => {
  const run = async (): Promise<unknown> => {
    switch (command.type) {
      case 'faults':
        server.faults = command.faults;
        return undefined;
      case 'stop':
        await server.stop();
        return undefined;
      case 'start':
        await server.start();
        return undefined;
      case 'unload':
        server.unload(command.model, command.version);
        return undefined;
      case 'state':
        server.setState(command.model, command.version, command.state);
        return undefined;
      case 'label':
        server.setLabel(command.model, command.label, command.version);
        return undefined;
      case 'requests':
        return server.requests.splice(0);
      default: {
        const exhaustive: never = command;
        return exhaustive;
      }
    }
  };
  run().then(
    (value) => send({ id: command.id, ok: true, value }),
    (error: unknown) => send({ id: command.id, ok: false, value: (error as Error).message }),
  );
});
process.on('disconnect', () => process.exit(0));
send({ id: 0, ok: true, value: server.url });

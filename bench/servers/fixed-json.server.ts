/**
 * Ceiling: the cheapest HTTP answer Node can give on this machine. node:http, reads the body, answers a fixed
 * JSON object: no framework, no validation, no model. The service cannot beat it.
 */
import { createServer } from 'node:http';

const body = JSON.stringify({ sentiment: 'NEGATIVE', confidence: 0.98 });
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
  });
});
server.listen(Number(process.env.PORT ?? 5101), '127.0.0.1', () => console.log('ready'));

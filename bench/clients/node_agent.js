// Closed-loop keep-alive load with Node's http module and a keep-alive http.Agent.
// Usage: node node_agent.js PORT WORKERS. Prints one line per attempt: ok, refused (nothing was
// sent), or fail <why>. Runs until killed.
'use strict';
const http = require('http');
const [port, workers] = process.argv.slice(2).map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: workers });

function attempt() {
  const req = http.get({ host: '127.0.0.1', port, path: '/hello', agent }, (res) => {
    res.resume();
    res.on('end', () => {
      console.log(res.statusCode === 200 ? 'ok' : 'fail status ' + res.statusCode);
      setImmediate(attempt);
    });
  });
  req.on('error', (e) => {
    console.log(e.code === 'ECONNREFUSED' ? 'refused' : 'fail ' + (e.code || e.message));
    setImmediate(attempt);
  });
}

for (let i = 0; i < workers; i++) {
  attempt();
}

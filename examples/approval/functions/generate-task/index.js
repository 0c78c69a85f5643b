// Generate task: the facts of one request (OutputPath $.Payload keeps this object).
const { randomUUID } = require("node:crypto");

exports.handler = async () => ({
  statusCode: 200,
  requestId: randomUUID(),
  timestamp: String(Math.floor(Date.now() / 1000)),
});

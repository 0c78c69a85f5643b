// Generate task: the facts of one verification request. On AWS this is a Node.js Lambda
// function behind "Generate task" (arn:aws:states:::lambda:invoke, OutputPath $.Payload).
const { randomUUID } = require("node:crypto");

exports.handler = async (event, context) => {
  const task = {
    statusCode: 200,
    requestId: randomUUID(),
    timestamp: String(Math.floor(Date.now() / 1000)),
  };
  console.log("generated task", JSON.stringify(task));
  return task;
};

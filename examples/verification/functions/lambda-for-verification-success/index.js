// Runs when the person follows the link: the route maps the query string into
// {requestId, timestamp, token}, and this function completes the waiting task.
const { SFNClient, SendTaskSuccessCommand } = require("@aws-sdk/client-sfn");

const sfn = new SFNClient({});

exports.handler = async (event, context) => {
  console.log("verified", event.requestId);
  await sfn.send(new SendTaskSuccessCommand({
    taskToken: event.token,
    output: JSON.stringify({ requestId: event.requestId, timestamp: event.timestamp }),
  }));
  return { statusCode: 200, body: "verification success" };
};

// Runs when the person follows the rejection link (the second variant, workshop.yaml): the
// route maps the query string into {requestId, token}, and this function fails the waiting
// task, so that the state machine's Catch sends the "Notify Failure" mail.
const { SFNClient, SendTaskFailureCommand } = require("@aws-sdk/client-sfn");

const sfn = new SFNClient({});

exports.handler = async (event, context) => {
  console.log("rejected", event.requestId);
  await sfn.send(new SendTaskFailureCommand({
    taskToken: event.token,
    error: "VerificationRejected",
    cause: `request ${event.requestId} was rejected`,
  }));
  return { statusCode: 200, body: "verification rejected" };
};

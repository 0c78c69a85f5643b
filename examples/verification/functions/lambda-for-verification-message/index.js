// Triggered by VerificationQueue: for each message, builds the link a person follows to
// approve the request, and asks for the approval by email through the SNS topic named by
// TOPIC_ARN (when set; the link is logged in any case). API_ENDPOINT is the base URL of the
// route that runs lambda-for-verification-success; with REJECT_PATH (the second variant) the
// mail also has a link to that path, whose route runs lambda-for-verification-failure.
const { SNSClient, PublishCommand } = require("@aws-sdk/client-sns");

const sns = new SNSClient({});

exports.handler = async (event, context) => {
  for (const record of event.Records) {
    const body = JSON.parse(record.body);
    const { requestId, timestamp } = body.Payload;
    const url =
      `${process.env.API_ENDPOINT}/verification?requestId=${encodeURIComponent(requestId)}` +
      `&timestamp=${encodeURIComponent(timestamp)}&token=${encodeURIComponent(body.TaskToken)}`;
    console.log("verification link", url);
    let message = `User verification is required.\n\n${url}\n`;
    if (process.env.REJECT_PATH) {
      const reject =
        `${process.env.API_ENDPOINT}${process.env.REJECT_PATH}?requestId=` +
        `${encodeURIComponent(requestId)}&token=${encodeURIComponent(body.TaskToken)}`;
      console.log("rejection link", reject);
      message += `\nTo reject the request:\n\n${reject}\n`;
    }
    if (process.env.TOPIC_ARN) {
      await sns.send(new PublishCommand({
        TopicArn: process.env.TOPIC_ARN,
        Subject: "Verification Request",
        Message: message,
      }));
    }
  }
};

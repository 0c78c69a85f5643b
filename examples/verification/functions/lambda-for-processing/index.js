// Return to main processing: the work the verification was waiting for.
exports.handler = async (event, context) => {
  const { requestId, timestamp } = event.Payload;
  console.log("processing", requestId);
  return {
    statusCode: 200,
    requestId,
    timestamp,
    result: `request ${requestId} processed`,
  };
};

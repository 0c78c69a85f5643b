// Return to main processing: runs once the request is approved. event.Payload is the
// state's input: the generated request and, under approval, who approved it and when.
exports.handler = async (event) => {
  const { requestId, timestamp, approval } = event.Payload;
  return {
    statusCode: 200,
    requestId,
    timestamp,
    approvedBy: approval.approvers.map((a) => a.who),
    result: `request ${requestId} processed`,
  };
};

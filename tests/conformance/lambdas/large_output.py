def handler(event, context):
    return "a" * (257 * 1024)

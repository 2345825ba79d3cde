"""One router per resource: pages, session, images, labels, cases, outputs."""

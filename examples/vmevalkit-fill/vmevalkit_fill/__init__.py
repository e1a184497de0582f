"An example vmevalkit plug-in: a puzzle domain, its checker, a model and a scorer, each found through an entry point."

"""View models: the typed answers the services build and :mod:`bot.render` turns into words.

They sit below both, so render never imports a service (freqtrade's ``rpc_types``: the data
layer emits typed messages, each chat layer only formats them)."""

"""What simulated customers say, by language: contact-center topics, emoji, links, places, buttons."""

TEXTS = {
    "en": ["My card was stolen, please block it", "My internet has been down since this morning",
           "I was charged twice on my last bill", "How do I upgrade to the 5G plan?",
           "Can I change the delivery address of my order?", "Hello? Is anyone there?",
           "I'd like to cancel my subscription", "The router light keeps blinking red",
           "When will my replacement card arrive?", "Thanks, that solved it!",
           # The `vip` rule (deploy/routing/acme.yaml) sends these to the human demo agents.
           "I'm a private banking customer, I need help with a transfer",
           "Premium account here: can someone call me back about my mortgage?"],
    "es": ["¿Dónde está mi pedido? Lo compré el lunes", "Me cobraron dos veces este mes",
           "Quiero cambiar mi plan de datos", "No tengo señal desde ayer en casa",
           "¿Pueden bloquear mi tarjeta? La perdí", "Gracias por la ayuda, muy amables"],
    "ja": ["機種変更したいです。今のプランのままでできますか？", "今朝からインターネットがつながりません",
           "請求額が二重になっています", "注文した商品がまだ届きません", "カードを紛失しました。停止してください",
           "ありがとうございました！"],
    "pt": ["Minha internet está muito lenta hoje", "Quero cancelar a assinatura", "Fui cobrado duas vezes",
           "Quando chega meu cartão novo?", "Obrigado pela ajuda!"],
    "fr": ["Ma carte a été volée, pouvez-vous la bloquer ?", "Je n'ai plus de connexion depuis ce matin",
           "J'ai été débité deux fois", "Comment changer mon forfait ?", "Merci beaucoup !"],
    "de": ["Meine Karte wurde gestohlen, bitte sperren", "Seit heute Morgen kein Internet",
           "Mir wurde doppelt abgebucht", "Wie wechsle ich in den 5G-Tarif?", "Danke, das hat geholfen!"],
}

EMOJI = ["📦", "🙏", "😡", "😊", "👍", "📱", "💳", "🚀", "❤️", "😅", "🇯🇵", "👨‍👩‍👧"]

LINKS = {
    "en": "Is this link really from you? {url}", "es": "¿Este enlace es de ustedes? {url}",
    "ja": "このリンクは本物ですか？ {url}", "pt": "Esse link é de vocês? {url}",
    "fr": "Ce lien vient bien de vous ? {url}", "de": "Ist dieser Link echt? {url}",
}
URLS = ["https://acme-telco.example/verify?acct=88213&src=sms", "https://acme-telco.example/offers/5g-double-data",
        "https://shop.acme.example/orders/A-10482/track", "https://acme-telco.example/help/router#reset"]

EMAIL = {
    "en": "You can reach me at {email}", "es": "Mi correo es {email}", "ja": "メールアドレスは {email} です",
    "pt": "Meu e-mail é {email}", "fr": "Mon e-mail : {email}", "de": "Meine E-Mail: {email}",
}

CAPTIONS = {"en": "This is the router, the light keeps blinking red", "es": "Foto del paquete dañado",
            "ja": "ルーターの写真です", "pt": "Foto da fatura", "fr": "Photo de la facture", "de": "Foto der Rechnung"}

PLACES = [("Acme Telco Shinjuku Store", "3-38-1 Shinjuku, Shinjuku City, Tokyo 160-0022", 35.690921, 139.704046),
          ("Acme Store Market Street", "845 Market St, San Francisco, CA 94103", 37.784172, -122.406481),
          ("Acme Tienda Gran Vía", "Gran Vía 32, 28013 Madrid", 40.420063, -3.705842),
          ("Acme Store Ikeja", "Obafemi Awolowo Way, Ikeja, Lagos", 6.601838, 3.351486)]

# Buttons our agents offer; a customer's tap comes back as a postback / quick reply.
BUTTONS = [("Block my card", "BLOCK_CARD"), ("Talk to an agent", "TALK_TO_AGENT"),
           ("Track my order", "TRACK_ORDER"), ("Yes, block it", "CONFIRM_BLOCK_YES"), ("No", "CONFIRM_BLOCK_NO")]

FIRST_NAMES = {"en": ["Olivia", "James", "Emma", "Noah"], "es": ["Lucía", "Javier", "Sofía", "Mateo"],
               "ja": ["Yui", "Haruto", "Sakura", "Ren"], "pt": ["Ana", "João", "Beatriz", "Pedro"],
               "fr": ["Chloé", "Lucas", "Léa", "Hugo"], "de": ["Mia", "Lukas", "Hannah", "Jonas"]}
LAST_NAMES = {"en": ["Smith", "Johnson", "Brown"], "es": ["García", "Martínez", "López"],
              "ja": ["Tanaka", "Suzuki", "Takahashi"], "pt": ["Silva", "Santos", "Oliveira"],
              "fr": ["Martin", "Bernard", "Dubois"], "de": ["Müller", "Schmidt", "Weber"]}
COUNTRY_CODES = {"en": "1415555", "es": "34612", "ja": "8180", "pt": "55119", "fr": "33612", "de": "49151"}

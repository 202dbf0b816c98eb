<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{domain}}</title>
</head>
<body>
<main>
<h1>{{domain}}</h1>
<p>This site was created with aaPanel. Replace this page with your own: upload your files into its document root.</p>
<section lang="ar" dir="rtl">
<h2>{{domain}}</h2>
<p>أُنشئ هذا الموقع بلوحة aaPanel. استبدل هذه الصفحة بصفحتك: ارفع ملفاتك إلى المجلد الجذر للموقع.</p>
</section>
</main>
</body>
</html>
